// The wire contract of Natter (docs/CONTRACT.md), as TypeScript types.
// Objects are JSON, camelCase, ids are strings and times RFC 3339 strings.

// Generated from natter-core's Rust types (scripts/contract.sh; never edit them):
// objects, event payloads, error codes and event names.
import type { Id } from './generated/Id';
import type { Message } from './generated/Message';
import type { Me } from './generated/Me';
import type { Reaction } from './generated/Reaction';
import type { Room } from './generated/Room';
import type { ErrorCode } from './generated/ErrorCode';
import type { Member } from './generated/Member';
import type { User } from './generated/User';
import type { MessageType } from './generated/MessageType';
import type { NotificationLevel } from './generated/NotificationLevel';
import type { Role } from './generated/Role';
import type { MessageChange } from './generated/MessageChange';
import type { MessageDeleted } from './generated/MessageDeleted';
import type { MessageReactions } from './generated/MessageReactions';
import type { MessageRead } from './generated/MessageRead';
import type { Notification } from './generated/Notification';
import type { RoomUpdated } from './generated/RoomUpdated';
import type { RoomUser } from './generated/RoomUser';
import type { TypingStart } from './generated/TypingStart';
import type { TypingStop } from './generated/TypingStop';
import type { UnreadCounts } from './generated/UnreadCounts';
import type { UserOffline } from './generated/UserOffline';
import type { UserOnline } from './generated/UserOnline';
import { ClientEvent, ServerEvent } from './generated/events';
export type { ClientEventName, ServerEventName } from './generated/events';
export { ClientEvent, ServerEvent };
export type { Id, Message, Me, Reaction, Room, ErrorCode, Member, User, MessageType, NotificationLevel, Role };
export type { ReplyTo as ReplyPreview } from './generated/ReplyTo';

/** An uploaded file (`POST /api/upload`, `GET /api/files/{id}/info`). */
export type { FileInfo as UploadedFile } from './generated/FileInfo';

// ---- errors ----

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

// REST response bodies, generated from the server's `http/` structs.
export type { SessionBody as AuthResponse } from './generated/SessionBody';
export type { MeBody } from './generated/MeBody';
export type { UserBody as UserEnvelope } from './generated/UserBody';
export type { RoomBody as RoomEnvelope } from './generated/RoomBody';
export type { RoomsBody as RoomsEnvelope } from './generated/RoomsBody';
export type { UsersBody as UsersEnvelope } from './generated/UsersBody';
export type { MembersBody as MembersEnvelope } from './generated/MembersBody';
export type { MemberBody as MemberEnvelope } from './generated/MemberBody';
export type { MessageBody as MessageEnvelope } from './generated/MessageBody';
export type { MessagesBody as MessagesPage } from './generated/MessagesBody';
/** One piece of a search snippet: text as written; `match` pieces are highlighted. */
export type { Piece as SnippetPiece } from './generated/Piece';
export type { SearchResult } from './generated/SearchResult';
export type { SearchBody as SearchPage } from './generated/SearchBody';
export type { FileBody as FileEnvelope } from './generated/FileBody';

// ---- Socket.IO payloads ----

/** A room change as delivered live: carries the room's eventSeq (docs/CONTRACT.md §7). */
export type MessageWithSeq = MessageChange;
export type MessageDeletedPayload = MessageDeleted;
export type MessageReactionsPayload = MessageReactions;
/** `room:updated`: a room's settings as every member sees them. */
export type RoomUpdatedPayload = RoomUpdated;
export type MessageReadPayload = MessageRead;
export type TypingStartPayload = TypingStart;
export type TypingStopPayload = TypingStop;
export type UserOnlinePayload = UserOnline;
export type UserOfflinePayload = UserOffline;
export type RoomUserPayload = RoomUser;
export type UnreadUpdatePayload = UnreadCounts;
export type NotificationPayload = Notification;

export interface SocketErrorPayload {
  message: string;
  code: ErrorCode;
}

/** The names of the room changes that carry an eventSeq and come back from `sync`. */
export type RoomChangeEventName =
  | typeof ServerEvent.MessageNew
  | typeof ServerEvent.MessageUpdated
  | typeof ServerEvent.MessageDeleted
  | typeof ServerEvent.MessageReactions
  | typeof ServerEvent.RoomUpdated;

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

// Client event payloads and ack bodies, generated from the gateway's structs.
import type { DmPayload } from './generated/DmPayload';
import type { EditPayload } from './generated/EditPayload';
import type { FocusPayload } from './generated/FocusPayload';
import type { MessageAck } from './generated/MessageAck';
import type { MessageRef } from './generated/MessageRef';
import type { ReactPayload } from './generated/ReactPayload';
import type { RoomRef } from './generated/RoomRef';
import type { SendPayload } from './generated/SendPayload';
import type { SyncPayload } from './generated/SyncPayload';
export type { DmPayload, EditPayload, FocusPayload, MessageAck, MessageRef, ReactPayload, RoomRef };
export type SendMessagePayload = SendPayload;
export type SyncRequest = SyncPayload;
/** `sync`'s ack (the generated `SyncAck`, with each event's name narrowed). */
export interface SyncResult {
  events: SyncEvent[];
  reset: Id[];
}

/** Events the server sends (docs/CONTRACT.md §3.2). */
export interface ServerToClientEvents {
  [ServerEvent.MessageNew]: (m: MessageWithSeq) => void;
  [ServerEvent.MessageUpdated]: (m: MessageWithSeq) => void;
  [ServerEvent.MessageDeleted]: (p: MessageDeletedPayload) => void;
  [ServerEvent.MessageReactions]: (p: MessageReactionsPayload) => void;
  [ServerEvent.MessageRead]: (p: MessageReadPayload) => void;
  [ServerEvent.TypingStart]: (p: TypingStartPayload) => void;
  [ServerEvent.TypingStop]: (p: TypingStopPayload) => void;
  [ServerEvent.UserOnline]: (p: UserOnlinePayload) => void;
  [ServerEvent.UserOffline]: (p: UserOfflinePayload) => void;
  [ServerEvent.RoomJoined]: (p: { room: Room }) => void;
  [ServerEvent.RoomUserJoined]: (p: RoomUserPayload) => void;
  [ServerEvent.RoomUserLeft]: (p: RoomUserPayload) => void;
  [ServerEvent.RoomUpdated]: (p: RoomUpdatedPayload) => void;
  [ServerEvent.DmNew]: (m: Message & { eventSeq?: number }) => void;
  [ServerEvent.UnreadUpdate]: (p: UnreadUpdatePayload) => void;
  [ServerEvent.Notification]: (p: NotificationPayload) => void;
  [ServerEvent.Error]: (p: SocketErrorPayload) => void;
}

/** Events the client sends, each with its ack (docs/CONTRACT.md §3.1). */
export interface ClientToServerEvents {
  [ClientEvent.RoomJoin]: (p: RoomRef, ack: AckCallback<{ room: Room }>) => void;
  [ClientEvent.RoomLeave]: (p: RoomRef, ack: AckCallback) => void;
  [ClientEvent.MessageSend]: (p: SendMessagePayload, ack: AckCallback<MessageAck>) => void;
  [ClientEvent.MessageEdit]: (p: EditPayload, ack: AckCallback<MessageAck>) => void;
  [ClientEvent.MessageDelete]: (p: MessageRef, ack: AckCallback<MessageAck>) => void;
  [ClientEvent.TypingStart]: (p: RoomRef, ack: AckCallback) => void;
  [ClientEvent.TypingStop]: (p: RoomRef, ack: AckCallback) => void;
  [ClientEvent.MessageReact]: (p: ReactPayload, ack: AckCallback<MessageReactionsPayload>) => void;
  [ClientEvent.MessageRead]: (p: MessageRef, ack: AckCallback<MessageReadPayload>) => void;
  [ClientEvent.DmSend]: (p: DmPayload, ack: AckCallback<MessageAck>) => void;
  [ClientEvent.Sync]: (p: SyncRequest, ack: AckCallback<SyncResult>) => void;
  /** The room this tab shows, visible and focused (null: none); no push for it. */
  [ClientEvent.Focus]: (p: FocusPayload, ack: AckCallback) => void;
}

/** A room change, whether it came live or from `sync`, normalised. */
export type RoomChange =
  | { kind: 'new'; roomId: Id; eventSeq: number; message: Message }
  | { kind: 'updated'; roomId: Id; eventSeq: number; message: Message }
  | { kind: 'deleted'; roomId: Id; eventSeq: number; messageId: Id }
  | { kind: 'reactions'; roomId: Id; eventSeq: number; messageId: Id; reactions: Reaction[] }
  | { kind: 'room'; roomId: Id; eventSeq: number; name: string; description: string; isPrivate: boolean };
