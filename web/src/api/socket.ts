// The one owner of the Socket.IO connection. Every event name of the wire contract lives
// here (and in types.ts); the rest of the app calls typed functions and receives typed
// callbacks.
import { io, type Socket } from 'socket.io-client';
import { ClientEvent, ServerEvent } from './types';
import type {
  Ack,
  AnyServerEvent,
  ClientToServerEvents,
  Id,
  Message,
  MessageReadPayload,
  MessageWithSeq,
  NotificationPayload,
  Room,
  RoomChange,
  RoomUserPayload,
  SendMessagePayload,
  ServerToClientEvents,
  SocketErrorPayload,
  SyncEvent,
  SyncResult,
  TypingStartPayload,
  TypingStopPayload,
  UnreadUpdatePayload,
  UserOfflinePayload,
  UserOnlinePayload,
} from './types';

export type ConnectionState = 'idle' | 'connecting' | 'online' | 'reconnecting' | 'offline';

/** What the app hears from the server. */
export interface RealtimeHandlers {
  /** Every successful (re)connect: the app calls `sync` from here. */
  onConnected(): void;
  onAuthFailed(message: string): void;
  onRoomChange(change: RoomChange): void;
  onDmNew(message: Message): void;
  onRead(p: MessageReadPayload): void;
  onTypingStart(p: TypingStartPayload): void;
  onTypingStop(p: TypingStopPayload): void;
  onUserOnline(p: UserOnlinePayload): void;
  onUserOffline(p: UserOfflinePayload): void;
  onRoomJoined(room: Room): void;
  onUserJoined(p: RoomUserPayload): void;
  onUserLeft(p: RoomUserPayload): void;
  onUnread(p: UnreadUpdatePayload): void;
  onNotification(p: NotificationPayload): void;
  onServerError(p: SocketErrorPayload): void;
}

/** What the app can ask of the server over the socket. Each resolves with the ack. */
export interface RealtimeApi {
  sendMessage(p: SendMessagePayload): Promise<Ack<{ message: Message }>>;
  editMessage(messageId: Id, content: string): Promise<Ack<{ message?: Message }>>;
  deleteMessage(messageId: Id): Promise<Ack>;
  react(messageId: Id, emoji: string): Promise<Ack>;
  markRead(messageId: Id): Promise<Ack>;
  typingStart(roomId: Id): void;
  typingStop(roomId: Id): void;
  joinRoom(roomId: Id): Promise<Ack<{ room?: Room }>>;
  sync(rooms: Record<Id, number>): Promise<Ack<SyncResult>>;
  focus(roomId: Id | null): Promise<Ack>;
}

/** How long an ack may take before the call counts as failed. */
export const ACK_TIMEOUT_MS = 10_000;

export const AUTH_ERRORS = ['Authentication required', 'Invalid token'];

/** Turns a room-change event, live or from `sync`, into a RoomChange; null for other events. */
export function toRoomChange(e: AnyServerEvent): RoomChange | null {
  switch (e.event) {
    case ServerEvent.MessageNew:
      return { kind: 'new', roomId: e.data.roomId, eventSeq: e.data.eventSeq, message: stripSeq(e.data) };
    case ServerEvent.MessageUpdated:
      return { kind: 'updated', roomId: e.data.roomId, eventSeq: e.data.eventSeq, message: stripSeq(e.data) };
    case ServerEvent.MessageDeleted: {
      const { roomId, eventSeq, messageId } = e.data;
      return { kind: 'deleted', roomId, eventSeq, messageId };
    }
    case ServerEvent.MessageReactions: {
      const { roomId, eventSeq, messageId, reactions } = e.data;
      return { kind: 'reactions', roomId, eventSeq, messageId, reactions };
    }
    case ServerEvent.RoomUpdated: {
      const { roomId, eventSeq } = e.data;
      const { name, description, isPrivate } = e.data.room;
      return { kind: 'room', roomId, eventSeq, name, description, isPrivate };
    }
    default:
      return null;
  }
}

export function syncEventToChange(e: SyncEvent): RoomChange | null {
  return toRoomChange(e);
}

function stripSeq(m: MessageWithSeq): Message {
  const { eventSeq: _drop, ...rest } = m;
  void _drop;
  return rest;
}

type NatterSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

type StateListener = (s: ConnectionState) => void;

class Connection {
  private socket: NatterSocket | null = null;
  private state: ConnectionState = 'idle';
  private listeners = new Set<StateListener>();
  private handlers: RealtimeHandlers | null = null;
  private everConnected = false;

  getState = (): ConnectionState => this.state;

  subscribe = (l: StateListener): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  private setState(s: ConnectionState): void {
    if (s === this.state) return;
    this.state = s;
    for (const l of this.listeners) l(s);
  }

  private readonly onBrowserOffline = () => this.setState('offline');
  private readonly onBrowserOnline = () => {
    if (this.socket && !this.socket.connected) {
      this.setState('reconnecting');
      this.socket.connect();
    }
  };

  start(token: string | null, handlers: RealtimeHandlers): void {
    this.stop();
    this.handlers = handlers;
    this.everConnected = false;
    this.setState('connecting');
    const socket: NatterSocket = io({
      path: '/socket.io',
      auth: token ? { token } : {},
      withCredentials: true,
      transports: ['websocket', 'polling'],
      tryAllTransports: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
    });
    this.socket = socket;
    this.wire(socket);
    if (typeof window !== 'undefined') {
      window.addEventListener('offline', this.onBrowserOffline);
      window.addEventListener('online', this.onBrowserOnline);
    }
  }

  stop(): void {
    if (typeof window !== 'undefined') {
      window.removeEventListener('offline', this.onBrowserOffline);
      window.removeEventListener('online', this.onBrowserOnline);
    }
    if (this.socket) {
      this.socket.removeAllListeners();
      this.socket.io.removeAllListeners();
      this.socket.disconnect();
      this.socket = null;
    }
    this.handlers = null;
    this.setState('idle');
  }

  private wire(socket: NatterSocket): void {
    const h = () => this.handlers;
    socket.on('connect', () => {
      this.everConnected = true;
      this.setState('online');
      h()?.onConnected();
    });
    socket.on('disconnect', (reason) => {
      if (reason === 'io client disconnect') {
        this.setState('offline');
        return;
      }
      this.setState(typeof navigator !== 'undefined' && navigator.onLine === false ? 'offline' : 'reconnecting');
      if (reason === 'io server disconnect') {
        // The server closed us (restart, shutdown): come back after a moment.
        setTimeout(() => this.socket === socket && !socket.connected && socket.connect(), 1000);
      }
    });
    socket.on('connect_error', (err) => {
      if (AUTH_ERRORS.includes(err.message)) {
        this.setState('offline');
        h()?.onAuthFailed(err.message);
        return;
      }
      this.setState(this.everConnected ? 'reconnecting' : 'connecting');
      if (!socket.active) {
        // Refused by the server (not a transport failure): retry ourselves.
        setTimeout(() => this.socket === socket && !socket.connected && socket.connect(), 2000);
      }
    });
    socket.io.on('reconnect_attempt', () => this.setState('reconnecting'));
    socket.io.on('reconnect_failed', () => this.setState('offline'));

    const change = (e: AnyServerEvent) => {
      const c = toRoomChange(e);
      if (c) h()?.onRoomChange(c);
    };
    socket.on(ServerEvent.MessageNew, (data) => change({ event: ServerEvent.MessageNew, data }));
    socket.on(ServerEvent.MessageUpdated, (data) => change({ event: ServerEvent.MessageUpdated, data }));
    socket.on(ServerEvent.MessageDeleted, (data) => change({ event: ServerEvent.MessageDeleted, data }));
    socket.on(ServerEvent.MessageReactions, (data) => change({ event: ServerEvent.MessageReactions, data }));
    socket.on(ServerEvent.RoomUpdated, (data) => change({ event: ServerEvent.RoomUpdated, data }));
    socket.on(ServerEvent.DmNew, (m) => h()?.onDmNew(m));
    socket.on(ServerEvent.MessageRead, (p) => h()?.onRead(p));
    socket.on(ServerEvent.TypingStart, (p) => h()?.onTypingStart(p));
    socket.on(ServerEvent.TypingStop, (p) => h()?.onTypingStop(p));
    socket.on(ServerEvent.UserOnline, (p) => h()?.onUserOnline(p));
    socket.on(ServerEvent.UserOffline, (p) => h()?.onUserOffline(p));
    socket.on(ServerEvent.RoomJoined, (p) => p?.room && h()?.onRoomJoined(p.room));
    socket.on(ServerEvent.RoomUserJoined, (p) => h()?.onUserJoined(p));
    socket.on(ServerEvent.RoomUserLeft, (p) => h()?.onUserLeft(p));
    socket.on(ServerEvent.UnreadUpdate, (p) => h()?.onUnread(p));
    socket.on(ServerEvent.Notification, (p) => h()?.onNotification(p));
    socket.on(ServerEvent.Error, (p) => h()?.onServerError(p));
  }

  /** Emits with an ack, resolving to an error ack on timeout or when not started. */
  emitAck<E extends keyof ClientToServerEvents>(
    event: E,
    payload: Parameters<ClientToServerEvents[E]>[0],
    timeoutMs = ACK_TIMEOUT_MS,
  ): Promise<Parameters<Parameters<ClientToServerEvents[E]>[1]>[0]> {
    type R = Parameters<Parameters<ClientToServerEvents[E]>[1]>[0];
    const socket = this.socket;
    if (!socket) {
      return Promise.resolve({ ok: false, error: { code: 'offline', message: 'Not connected' } } as R);
    }
    return new Promise<R>((resolve) => {
      const untyped = socket.timeout(timeoutMs) as unknown as {
        emit: (ev: string, p: unknown, cb: (err: Error | null, res: unknown) => void) => void;
      };
      untyped.emit(event, payload, (err, res) => {
        if (err) {
          resolve({ ok: false, error: { code: 'timeout', message: 'The server did not answer in time' } } as R);
        } else if (res && typeof res === 'object' && 'ok' in res) {
          resolve(res as R);
        } else {
          resolve({ ok: true } as R);
        }
      });
    });
  }

  /** Fire and forget (no ack wanted). Dropped while disconnected. */
  emitVolatile<E extends typeof ClientEvent.TypingStart | typeof ClientEvent.TypingStop>(event: E, payload: { roomId: Id }): void {
    const socket = this.socket;
    if (!socket || !socket.connected) return;
    (socket as unknown as { emit: (ev: string, p: unknown) => void }).emit(event, payload);
  }
}

export const connection = new Connection();

/** The socket side of the app's API, backed by the one connection. */
export const realtime: RealtimeApi = {
  sendMessage: (p) => connection.emitAck(ClientEvent.MessageSend, p),
  editMessage: (messageId, content) => connection.emitAck(ClientEvent.MessageEdit, { messageId, content }),
  deleteMessage: (messageId) => connection.emitAck(ClientEvent.MessageDelete, { messageId }),
  react: (messageId, emoji) => connection.emitAck(ClientEvent.MessageReact, { messageId, emoji }),
  markRead: (messageId) => connection.emitAck(ClientEvent.MessageRead, { messageId }),
  typingStart: (roomId) => connection.emitVolatile(ClientEvent.TypingStart, { roomId }),
  typingStop: (roomId) => connection.emitVolatile(ClientEvent.TypingStop, { roomId }),
  joinRoom: (roomId) => connection.emitAck(ClientEvent.RoomJoin, { roomId }),
  sync: (rooms) => connection.emitAck(ClientEvent.Sync, { rooms }, 20_000),
  focus: (roomId) => connection.emitAck(ClientEvent.Focus, { roomId }),
};
