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
import type { ErrorBody } from './generated/ErrorBody';
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

export type { ErrorBody };

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

export type SocketErrorPayload = ErrorBody;

/** Any server event as `{event, data}` (the shape `sync` returns), a union by `event`. */
export type AnyServerEvent = TaggedServerEvent;
/** One logged room change from `sync`: `{eventSeq, roomId, event, data}`. */
export type SyncEvent = RoomEvent;

// ---- acks ----

export type AckOk<T = object> = { ok: true } & T;
export interface AckErr {
  ok: false;
  /** The server's error, or the client's own when it got no answer. */
  error: { code: ErrorCode | ClientErrorCode; message: string };
}
export type Ack<T = object> = AckOk<T> | AckErr;
export type AckCallback<T = object> = (res: Ack<T>) => void;

// Client event payloads and ack bodies, generated from natter-core's events and the
// gateway's ack structs.
import type { DmPayload } from './generated/DmPayload';
import type { EditPayload } from './generated/EditPayload';
import type { FocusPayload } from './generated/FocusPayload';
import type { MessageAck } from './generated/MessageAck';
import type { MessageRef } from './generated/MessageRef';
import type { ReactPayload } from './generated/ReactPayload';
import type { RoomRef } from './generated/RoomRef';
import type { SendPayload } from './generated/SendPayload';
import type { SyncPayload } from './generated/SyncPayload';
import type { SyncAck } from './generated/SyncAck';
import type { RoomEvent } from './generated/RoomEvent';
import type { TaggedServerEvent } from './generated/TaggedServerEvent';
import type { ClientEventName, ClientEventPayloads, ServerEventPayloads } from './generated/events';
export type { DmPayload, EditPayload, FocusPayload, MessageAck, MessageRef, ReactPayload, RoomRef };
export type SendMessagePayload = SendPayload;
export type SyncRequest = SyncPayload;
/** `sync`'s ack. */
export type SyncResult = SyncAck;

/** Events the server sends (docs/CONTRACT.md §3.2), from the generated payload map. */
export type ServerToClientEvents = {
  [E in keyof ServerEventPayloads]: (p: ServerEventPayloads[E]) => void;
};

/** What each client event's ack carries besides `ok` (docs/CONTRACT.md §3.1). */
export interface ClientEventAcks {
  [ClientEvent.RoomJoin]: { room: Room };
  [ClientEvent.RoomLeave]: object;
  [ClientEvent.MessageSend]: MessageAck;
  [ClientEvent.MessageEdit]: MessageAck;
  [ClientEvent.MessageDelete]: MessageAck;
  [ClientEvent.TypingStart]: object;
  [ClientEvent.TypingStop]: object;
  [ClientEvent.MessageReact]: MessageReactionsPayload;
  [ClientEvent.MessageRead]: MessageReadPayload;
  [ClientEvent.DmSend]: MessageAck;
  [ClientEvent.Sync]: SyncResult;
  /** The room this tab shows, visible and focused (null: none); no push for it. */
  [ClientEvent.Focus]: object;
}

/** Events the client sends, each with its payload (generated) and its ack. */
export type ClientToServerEvents = {
  [E in ClientEventName]: (p: ClientEventPayloads[E], ack: AckCallback<ClientEventAcks[E]>) => void;
};

/** A room change, whether it came live or from `sync`, normalised. */
export type RoomChange =
  | { kind: 'new'; roomId: Id; eventSeq: number; message: Message }
  | { kind: 'updated'; roomId: Id; eventSeq: number; message: Message }
  | { kind: 'deleted'; roomId: Id; eventSeq: number; messageId: Id }
  | { kind: 'reactions'; roomId: Id; eventSeq: number; messageId: Id; reactions: Reaction[] }
  | { kind: 'room'; roomId: Id; eventSeq: number; name: string; description: string; isPrivate: boolean };
