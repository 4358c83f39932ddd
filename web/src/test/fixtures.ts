// Test fixtures: two users, a message and a room with overridable fields.
import type { Message, Room, User } from '../api/types';

export const ana: User = { id: 'u-ana', username: 'ana', name: 'Ana', avatar: null };
export const luis: User = { id: 'u-luis', username: 'luis', name: 'Luis', avatar: null };

export function msg(seq: number, over: Partial<Message> = {}): Message {
  const at = new Date(Date.UTC(2025, 0, 1, 12, 0, seq)).toISOString();
  return {
    id: `m${seq}`,
    roomId: 'r1',
    userId: luis.id,
    seq,
    content: `message ${seq}`,
    type: 'text',
    fileUrl: null,
    replyToId: null,
    replyTo: null,
    user: luis,
    reactions: [],
    mentions: [],
    createdAt: at,
    updatedAt: at,
    ...over,
  };
}

export function room(over: Partial<Room> = {}): Room {
  return {
    id: 'r1',
    name: 'general',
    description: '',
    isPrivate: false,
    isDirect: false,
    createdBy: ana.id,
    createdAt: '2025-01-01T00:00:00Z',
    lastSeq: 0,
    unread: 0,
    mentions: 0,
    role: 'member',
    memberCount: 2,
    notifications: 'mentions',
    ...over,
  };
}
