// The wire contract of Natter (docs/CONTRACT.md), as TypeScript types.
// Objects are JSON, camelCase, ids are strings and times RFC 3339 strings.

export type Id = string;

export interface User {
  id: Id;
  username: string;
  name: string;
  avatar: string | null;
}

export type Role = 'admin' | 'moderator' | 'member';

export interface Room {
  id: Id;
  name: string;
  /** `""` when none. */
  description: string;
  isPrivate: boolean;
  isDirect: boolean;
  createdBy: Id;
  createdAt: string;
  /** The room's latest eventSeq. */
  lastSeq: number;
  unread: number;
  mentions: number;
  role: Role | null;
  /** How many members the room has. */
  memberCount: number;
  /** DMs only: the other person. */
  peer?: User;
  /** My notification level here (push and page notifications). */
  notifications: NotificationLevel;
}

/** `all` messages, only `mentions` (and DMs' default `all`), or `none`. */
export type NotificationLevel = 'all' | 'mentions' | 'none';

export interface Member {
  user: User;
  role: Role;
  online: boolean;
  lastSeen: string | null;
  joinedAt: string;
  /** The seq this member has read up to (their read cursor). */
  lastReadSeq: number;
}

export interface Reaction {
  emoji: string;
  count: number;
  /** In the order they reacted. */
  userIds: Id[];
}

export type MessageType = 'text' | 'image' | 'file';

export interface ReplyPreview {
  id: Id;
  content: string;
  user: { username: string };
}

export interface Message {
  id: Id;
  roomId: Id;
  userId: Id;
  /** The message's place in its room (= eventSeq of its creation). */
  seq: number;
  content: string;
  type: MessageType;
  /** `/api/files/{id}` for `image`/`file` (name, size, dimensions: `GET …/info`). */
  fileUrl: string | null;
  replyToId: Id | null;
  replyTo: ReplyPreview | null;
  user: User;
  reactions: Reaction[];
  mentions: Id[];
  clientId?: string | null;
  createdAt: string;
  updatedAt: string;
  editedAt?: string | null;
  deletedAt?: string | null;
}

export interface UploadedFile {
  id: Id;
  url: string;
  /** The uploader's file name (made safe by the server). */
  name?: string;
  thumbnailUrl: string | null;
  contentType: string;
  size: number;
  width?: number;
  height?: number;
}

// ---- errors ----

export type ErrorCode =
  | 'invalid'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'rate_limited'
  | 'internal';

/** Failures the client itself reports (never sent by the server). */
export type ClientErrorCode = 'offline' | 'timeout' | 'network' | 'aborted';

export interface ErrorBody {
  code: ErrorCode;
  message: string;
}

/** REST error envelope. */
export interface ErrorEnvelope {
  error: ErrorBody;
}

// ---- REST envelopes ----

/** The signed-in user: a User plus their email (register, login, `GET /api/me`). */
export interface Me extends User {
  email: string;
}

export interface AuthResponse {
  user: Me;
  token: string;
}
export interface UserEnvelope {
  user: User;
}
export interface RoomEnvelope {
  room: Room;
}
export interface RoomsEnvelope {
  rooms: Room[];
}
export interface UsersEnvelope {
  users: User[];
}
export interface MembersEnvelope {
  members: Member[];
}
export interface MemberEnvelope {
  member: Member;
}
export interface MessageEnvelope {
  message: Message;
}
export interface MessagesPage {
  messages: Message[];
  hasMore: boolean;
  /** With `around` only. */
  hasMoreBefore?: boolean;
  hasMoreAfter?: boolean;
}
/** One piece of a search snippet: text as written; `match` pieces are highlighted. */
export interface SnippetPiece {
  text: string;
  match: boolean;
}
export interface SearchResult {
  message: Message;
  snippet: SnippetPiece[];
}
export interface SearchPage {
  results: SearchResult[];
  nextCursor: string | null;
}
export interface FileEnvelope {
  file: UploadedFile;
}

// ---- Socket.IO payloads ----

/** A room change as delivered live: carries the room's eventSeq (docs/CONTRACT.md §7). */
export type MessageWithSeq = Message & { eventSeq: number };

export interface MessageDeletedPayload {
  messageId: Id;
  roomId: Id;
  eventSeq: number;
}

export interface MessageReactionsPayload {
  messageId: Id;
  roomId: Id;
  reactions: Reaction[];
  eventSeq: number;
}

/** `room:updated`: a room's settings as every member sees them. */
export interface RoomUpdatedPayload {
  roomId: Id;
  name: string;
  description: string;
  isPrivate: boolean;
  eventSeq: number;
}

export interface MessageReadPayload {
  messageId: Id;
  roomId: Id;
  userId: Id;
  seq: number;
}

export interface TypingStartPayload {
  userId: Id;
  username: string;
  roomId: Id;
}
export interface TypingStopPayload {
  userId: Id;
  roomId: Id;
}

export interface UserOnlinePayload {
  userId: Id;
  username: string;
}
export interface UserOfflinePayload {
  userId: Id;
  username: string;
  lastSeen: string;
}

export interface RoomUserPayload {
  roomId: Id;
  user: User;
}

export interface UnreadUpdatePayload {
  roomId: Id;
  unread: number;
  mentions: number;
}

export interface NotificationPayload {
  kind: 'mention' | 'dm';
  roomId: Id;
  message: Message;
}

export interface SocketErrorPayload {
  message: string;
  code: ErrorCode;
}

/** The names of the room changes that carry an eventSeq and come back from `sync`. */
export type RoomChangeEventName =
  | 'message:new'
  | 'message:updated'
  | 'message:deleted'
  | 'message:reactions'
  | 'room:updated';

export interface SyncEvent {
  eventSeq: number;
  roomId: Id;
  event: RoomChangeEventName;
  data: unknown;
}

// ---- acks ----

export type AckOk<T = object> = { ok: true } & T;
export interface AckErr {
  ok: false;
  /** The server's error, or the client's own when it got no answer. */
  error: { code: ErrorCode | ClientErrorCode; message: string };
}
export type Ack<T = object> = AckOk<T> | AckErr;
export type AckCallback<T = object> = (res: Ack<T>) => void;

export interface SendMessagePayload {
  roomId: Id;
  content: string;
  replyToId?: Id;
  type?: MessageType;
  fileUrl?: string;
  clientId?: string;
}

export interface SyncRequest {
  rooms: Record<Id, number>;
}
export interface SyncResult {
  events: SyncEvent[];
  reset: Id[];
}

/** Events the server sends (docs/CONTRACT.md §3.2). */
export interface ServerToClientEvents {
  'message:new': (m: MessageWithSeq) => void;
  'message:updated': (m: MessageWithSeq) => void;
  'message:deleted': (p: MessageDeletedPayload) => void;
  'message:reactions': (p: MessageReactionsPayload) => void;
  'message:read': (p: MessageReadPayload) => void;
  'typing:start': (p: TypingStartPayload) => void;
  'typing:stop': (p: TypingStopPayload) => void;
  'user:online': (p: UserOnlinePayload) => void;
  'user:offline': (p: UserOfflinePayload) => void;
  'room:joined': (p: { room: Room }) => void;
  'room:user-joined': (p: RoomUserPayload) => void;
  'room:user-left': (p: RoomUserPayload) => void;
  'room:updated': (p: RoomUpdatedPayload) => void;
  'dm:new': (m: Message & { eventSeq?: number }) => void;
  'unread:update': (p: UnreadUpdatePayload) => void;
  notification: (p: NotificationPayload) => void;
  error: (p: SocketErrorPayload) => void;
}

/** Events the client sends, each with its ack (docs/CONTRACT.md §3.1). */
export interface ClientToServerEvents {
  'room:join': (p: { roomId: Id }, ack: AckCallback<{ room?: Room }>) => void;
  'room:leave': (p: { roomId: Id }, ack: AckCallback) => void;
  'message:send': (p: SendMessagePayload, ack: AckCallback<{ message: Message }>) => void;
  'message:edit': (p: { messageId: Id; content: string }, ack: AckCallback<{ message?: Message }>) => void;
  'message:delete': (p: { messageId: Id }, ack: AckCallback) => void;
  'typing:start': (p: { roomId: Id }, ack: AckCallback) => void;
  'typing:stop': (p: { roomId: Id }, ack: AckCallback) => void;
  'message:react': (p: { messageId: Id; emoji: string }, ack: AckCallback) => void;
  'message:read': (p: { messageId: Id }, ack: AckCallback) => void;
  'dm:send': (p: { recipientId: Id; content: string; clientId?: string }, ack: AckCallback<{ message: Message }>) => void;
  sync: (p: SyncRequest, ack: AckCallback<SyncResult>) => void;
  /** The room this tab shows, visible and focused (null: none); no push for it. */
  focus: (p: { roomId: Id | null }, ack: AckCallback) => void;
}

/** A room change, whether it came live or from `sync`, normalised. */
export type RoomChange =
  | { kind: 'new'; roomId: Id; eventSeq: number; message: Message }
  | { kind: 'updated'; roomId: Id; eventSeq: number; message: Message }
  | { kind: 'deleted'; roomId: Id; eventSeq: number; messageId: Id }
  | { kind: 'reactions'; roomId: Id; eventSeq: number; messageId: Id; reactions: Reaction[] }
  | { kind: 'room'; roomId: Id; eventSeq: number; name: string; description: string; isPrivate: boolean };
