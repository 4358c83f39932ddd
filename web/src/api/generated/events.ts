// Generated from natter-core's `events` by scripts/contract.sh. Do not edit.

import type { DmPayload } from './DmPayload';
import type { EditPayload } from './EditPayload';
import type { ErrorBody } from './ErrorBody';
import type { FocusPayload } from './FocusPayload';
import type { Message } from './Message';
import type { MessageChange } from './MessageChange';
import type { MessageDeleted } from './MessageDeleted';
import type { MessageReactions } from './MessageReactions';
import type { MessageRead } from './MessageRead';
import type { MessageRef } from './MessageRef';
import type { Notification } from './Notification';
import type { ReactPayload } from './ReactPayload';
import type { RoomJoined } from './RoomJoined';
import type { RoomRef } from './RoomRef';
import type { RoomUpdated } from './RoomUpdated';
import type { RoomUser } from './RoomUser';
import type { SendPayload } from './SendPayload';
import type { SyncPayload } from './SyncPayload';
import type { TypingStart } from './TypingStart';
import type { TypingStop } from './TypingStop';
import type { UnreadCounts } from './UnreadCounts';
import type { UserOffline } from './UserOffline';
import type { UserOnline } from './UserOnline';

export const ClientEvent = {
  RoomJoin: 'room:join',
  RoomLeave: 'room:leave',
  MessageSend: 'message:send',
  MessageEdit: 'message:edit',
  MessageDelete: 'message:delete',
  TypingStart: 'typing:start',
  TypingStop: 'typing:stop',
  MessageReact: 'message:react',
  MessageRead: 'message:read',
  DmSend: 'dm:send',
  Sync: 'sync',
  Focus: 'focus',
} as const;
export type ClientEventName = (typeof ClientEvent)[keyof typeof ClientEvent];

/** The payload of each ClientEvent, by wire name. */
export interface ClientEventPayloads {
  'room:join': RoomRef;
  'room:leave': RoomRef;
  'message:send': SendPayload;
  'message:edit': EditPayload;
  'message:delete': MessageRef;
  'typing:start': RoomRef;
  'typing:stop': RoomRef;
  'message:react': ReactPayload;
  'message:read': MessageRef;
  'dm:send': DmPayload;
  'sync': SyncPayload;
  'focus': FocusPayload;
}

export const ServerEvent = {
  MessageNew: 'message:new',
  MessageUpdated: 'message:updated',
  MessageDeleted: 'message:deleted',
  MessageReactions: 'message:reactions',
  MessageRead: 'message:read',
  TypingStart: 'typing:start',
  TypingStop: 'typing:stop',
  UserOnline: 'user:online',
  UserOffline: 'user:offline',
  RoomJoined: 'room:joined',
  RoomUserJoined: 'room:user-joined',
  RoomUserLeft: 'room:user-left',
  RoomUpdated: 'room:updated',
  DmNew: 'dm:new',
  UnreadUpdate: 'unread:update',
  Notification: 'notification',
  Error: 'error',
} as const;
export type ServerEventName = (typeof ServerEvent)[keyof typeof ServerEvent];

/** The payload of each ServerEvent, by wire name. */
export interface ServerEventPayloads {
  'message:new': MessageChange;
  'message:updated': MessageChange;
  'message:deleted': MessageDeleted;
  'message:reactions': MessageReactions;
  'message:read': MessageRead;
  'typing:start': TypingStart;
  'typing:stop': TypingStop;
  'user:online': UserOnline;
  'user:offline': UserOffline;
  'room:joined': RoomJoined;
  'room:user-joined': RoomUser;
  'room:user-left': RoomUser;
  'room:updated': RoomUpdated;
  'dm:new': Message;
  'unread:update': UnreadCounts;
  'notification': Notification;
  'error': ErrorBody;
}
