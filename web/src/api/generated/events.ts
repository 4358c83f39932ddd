// Generated from natter-core's `events.rs` by scripts/contract.sh. Do not edit.

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
