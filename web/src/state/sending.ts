// Sending: optimistic send (pending, sent on the ack, failed, retry), edit, delete, react.
// Local messages live in the timelines store; a retry reuses the clientId, so a message is
// never stored twice.
import type { RealtimeApi } from '../api/socket';
import type { Ack, Id } from '../api/types';
import type { RoomsStore } from './rooms';
import { acknowledge, addLocal, emptyTimeline, setLocalStatus, type ChatMessage } from './timeline';
import type { TimelinesStore } from './timelines';

export interface SendingDeps {
  realtime: Pick<RealtimeApi, 'sendMessage' | 'editMessage' | 'deleteMessage' | 'react'>;
  rooms: RoomsStore;
  timelines: TimelinesStore;
  uuid: () => string;
  now: () => number;
}

export interface SendOptions {
  replyTo?: ChatMessage | null;
  type?: 'image' | 'file';
  fileUrl?: string;
}

export function createSending(deps: SendingDeps) {
  const { timelines } = deps;

  async function sendLocal(local: ChatMessage): Promise<void> {
    const clientId = local.clientId!;
    const res = await deps.realtime.sendMessage({
      roomId: local.roomId,
      content: local.content,
      clientId,
      ...(local.replyToId ? { replyToId: local.replyToId } : {}),
      ...(local.type !== 'text' ? { type: local.type } : {}),
      ...(local.fileUrl ? { fileUrl: local.fileUrl } : {}),
    });
    if (res.ok && res.message) {
      timelines.patch(local.roomId, (t) => ({ ...t, messages: acknowledge(t.messages, clientId, res.message) }));
    } else if (!res.ok) {
      timelines.patch(local.roomId, (t) => ({
        ...t,
        messages: setLocalStatus(t.messages, clientId, 'failed', res.error?.message ?? 'Not sent'),
      }));
    }
  }

  /** The error message of a failed ack, or null. */
  const errorOf = (res: Ack): string | null => (res.ok ? null : res.error.message);

  return {
    /** Optimistic send: shows at once as pending; sent on ack; failed on error/timeout. */
    send(roomId: Id, content: string, opts: SendOptions = {}): string {
      const me = deps.rooms.store.getState().me;
      if (!me) throw new Error('not signed in');
      const clientId = deps.uuid();
      const at = new Date(deps.now()).toISOString();
      const reply = opts.replyTo ?? null;
      const local: ChatMessage = {
        id: `local:${clientId}`,
        roomId,
        userId: me.id,
        seq: Number.MAX_SAFE_INTEGER,
        content,
        type: opts.type ?? 'text',
        fileUrl: opts.fileUrl ?? null,
        replyToId: reply?.id ?? null,
        replyTo: reply ? { id: reply.id, content: reply.content, user: { username: reply.user.username } } : null,
        user: me,
        reactions: [],
        mentions: [],
        clientId,
        createdAt: at,
        updatedAt: at,
        status: 'pending',
      };
      timelines.ensure(roomId, { ...emptyTimeline(), loaded: true });
      timelines.patch(roomId, (t) => ({ ...t, messages: addLocal(t.messages, local), markerSeq: null }));
      timelines.scrollToNewest();
      void sendLocal(local);
      return clientId;
    },

    /** Retries a failed message with the same clientId, so it can never be stored twice. */
    retry(roomId: Id, clientId: string): void {
      const tl = timelines.store.getState().timelines[roomId];
      const local = tl?.messages.find((m) => m.clientId === clientId && m.status === 'failed');
      if (!local) return;
      timelines.patch(roomId, (t) => ({ ...t, messages: setLocalStatus(t.messages, clientId, 'pending') }));
      void sendLocal({ ...local, status: 'pending' });
    },

    discard(roomId: Id, clientId: string): void {
      timelines.patch(roomId, (t) => ({
        ...t,
        messages: t.messages.filter((m) => !(m.clientId === clientId && m.status === 'failed')),
      }));
    },

    /** Each resolves to null, or the server's reason it failed. */
    async edit(messageId: Id, content: string): Promise<string | null> {
      return errorOf(await deps.realtime.editMessage(messageId, content));
    },

    async remove(messageId: Id): Promise<string | null> {
      return errorOf(await deps.realtime.deleteMessage(messageId));
    },

    async react(messageId: Id, emoji: string): Promise<string | null> {
      return errorOf(await deps.realtime.react(messageId, emoji));
    },
  };
}

export type Sending = ReturnType<typeof createSending>;
