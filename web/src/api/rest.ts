// Typed REST client for /api (docs/CONTRACT.md §4). Every call goes to our own origin with the
// session cookie; the token from login (if we have one) rides along as a Bearer header.
import type {
  AuthResponse,
  ClientErrorCode,
  ErrorCode,
  ErrorEnvelope,
  FileEnvelope,
  Id,
  MemberEnvelope,
  MembersEnvelope,
  MessageEnvelope,
  MessagesPage,
  NotificationLevel,
  Role,
  RoomEnvelope,
  RoomsEnvelope,
  SearchPage,
  UploadedFile,
  UserEnvelope,
  UsersEnvelope,
} from './types';

export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode | ClientErrorCode;
  constructor(status: number, code: ErrorCode | ClientErrorCode, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** The server's code for an answer without our error envelope (from a proxy in
 *  between, say): the one the server gives that status (docs/CONTRACT.md §5). */
function codeOfStatus(status: number): ErrorCode {
  switch (status) {
    case 401:
      return 'unauthenticated';
    case 403:
      return 'forbidden';
    case 404:
    case 405:
      return 'not_found';
    case 409:
      return 'conflict';
    case 413:
      return 'too_large';
    case 429:
      return 'rate_limited';
    default:
      return status >= 500 ? 'internal' : 'invalid';
  }
}

let bearer: string | null = null;
/** Sets (or clears) the token sent as `Authorization: Bearer`. */
export function setBearerToken(token: string | null): void {
  bearer = token;
}

function isErrorEnvelope(v: unknown): v is ErrorEnvelope {
  if (typeof v !== 'object' || v === null || !('error' in v)) return false;
  const e = (v as { error: unknown }).error;
  return typeof e === 'object' && e !== null && 'message' in e;
}

type Query = Record<string, string | number | undefined | null>;

function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
  }
  const s = qs.toString();
  return s ? `${path}?${s}` : path;
}

async function request<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  let res: Response;
  try {
    res = await fetch(withQuery(`/api${path}`, query), {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach the server. Check your connection.');
  }
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (!res.ok) {
    if (isErrorEnvelope(data)) throw new ApiError(res.status, data.error.code, data.error.message);
    throw new ApiError(res.status, codeOfStatus(res.status), `Request failed (${res.status})`);
  }
  return data as T;
}

export const rest = {
  register: (p: { email: string; username: string; name: string; password: string }) =>
    request<AuthResponse>('POST', '/auth/register', p),
  login: (p: { login: string; password: string }) => request<AuthResponse>('POST', '/auth/login', p),
  logout: () => request<unknown>('POST', '/auth/logout'),
  logoutAll: () => request<unknown>('POST', '/auth/logout-all'),
  changePassword: (p: { current: string; new: string }) => request<unknown>('POST', '/auth/password', p),
  me: () => request<UserEnvelope>('GET', '/me'),

  rooms: () => request<RoomsEnvelope>('GET', '/rooms'),
  publicRooms: (query: string) => request<RoomsEnvelope>('GET', '/rooms/public', undefined, { query }),
  createRoom: (p: { name: string; description: string; isPrivate: boolean }) =>
    request<RoomEnvelope>('POST', '/rooms', p),
  room: (id: Id) => request<RoomEnvelope>('GET', `/rooms/${encodeURIComponent(id)}`),
  updateRoom: (id: Id, p: { name?: string; description?: string }) =>
    request<RoomEnvelope>('PATCH', `/rooms/${encodeURIComponent(id)}`, p),
  joinRoom: (id: Id) => request<RoomEnvelope>('POST', `/rooms/${encodeURIComponent(id)}/join`),
  leaveRoom: (id: Id) => request<unknown>('POST', `/rooms/${encodeURIComponent(id)}/leave`),
  members: (id: Id) => request<MembersEnvelope>('GET', `/rooms/${encodeURIComponent(id)}/members`),
  invite: (id: Id, userId: Id) =>
    request<MemberEnvelope>('POST', `/rooms/${encodeURIComponent(id)}/members`, { userId }),
  removeMember: (id: Id, userId: Id) =>
    request<unknown>('DELETE', `/rooms/${encodeURIComponent(id)}/members/${encodeURIComponent(userId)}`),
  setRole: (id: Id, userId: Id, role: Role) =>
    request<MemberEnvelope>('PATCH', `/rooms/${encodeURIComponent(id)}/members/${encodeURIComponent(userId)}`, {
      role,
    }),

  openDm: (userId: Id) => request<RoomEnvelope>('POST', '/dms', { userId }),

  messages: (q: { roomId: Id; before?: number; after?: number; around?: number; limit?: number }) =>
    request<MessagesPage>('GET', '/messages', undefined, q),
  search: (q: { q: string; roomId?: Id; cursor?: string; limit?: number; sort?: 'relevance' | 'newest' }) =>
    request<SearchPage>('GET', '/search', undefined, q),
  postMessage: (p: { roomId: Id; content: string; replyToId?: Id; clientId?: string }) =>
    request<MessageEnvelope>('POST', '/messages', p),

  users: (query: string) => request<UsersEnvelope>('GET', '/users', undefined, { query }),

  // Web Push (issue 11)
  vapidPublicKey: () => request<{ key: string }>('GET', '/push/vapid-public-key'),
  subscribePush: (sub: PushSubscriptionJSON) => request<unknown>('POST', '/push/subscriptions', sub),
  unsubscribePush: (endpoint: string) => request<unknown>('DELETE', '/push/subscriptions', { endpoint }),
  setNotifications: (id: Id, level: NotificationLevel) =>
    request<RoomEnvelope>('PATCH', `/rooms/${encodeURIComponent(id)}/notifications`, { level }),
};


/** The REST client's shape (stores take it as a dependency, so tests can pass a fake). */
export type RestApi = typeof rest;

/**
 * POST /api/upload with progress (multipart: `file`, `roomId`). Uses XMLHttpRequest
 * because fetch has no upload progress events.
 */
export function uploadFile(
  roomId: Id,
  file: File,
  onProgress: (fraction: number) => void,
): { promise: Promise<UploadedFile>; abort: () => void } {
  const xhr = new XMLHttpRequest();
  const promise = new Promise<UploadedFile>((resolve, reject) => {
    xhr.open('POST', '/api/upload');
    xhr.withCredentials = true;
    if (bearer) xhr.setRequestHeader('Authorization', `Bearer ${bearer}`);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onerror = () => reject(new ApiError(0, 'network', 'Upload failed: cannot reach the server.'));
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'Upload cancelled.'));
    xhr.onload = () => {
      let data: unknown;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300 && data && typeof data === 'object' && 'file' in data) {
        resolve((data as FileEnvelope).file);
      } else if (isErrorEnvelope(data)) {
        reject(new ApiError(xhr.status, data.error.code, data.error.message));
      } else {
        reject(new ApiError(xhr.status, codeOfStatus(xhr.status), `Upload failed (${xhr.status})`));
      }
    };
    const form = new FormData();
    form.append('roomId', roomId);
    form.append('file', file);
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}

const fileInfos = new Map<string, Promise<UploadedFile>>();

/** GET /api/files/{id}/info for a file url of ours (name, type, size), cached. */
export function fileInfo(fileUrl: string): Promise<UploadedFile> {
  let p = fileInfos.get(fileUrl);
  if (!p) {
    p = request<FileEnvelope>('GET', `${fileUrl.replace(/^\/api/, '')}/info`).then((e) => e.file);
    p.catch(() => fileInfos.delete(fileUrl));
    fileInfos.set(fileUrl, p);
  }
  return p;
}
