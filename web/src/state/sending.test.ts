// Tests of optimistic sending: pending → sent (one copy), failed → retry with the same clientId, discard.
import { beforeEach, describe, expect, it } from 'vitest';
import { flush, setup } from '../test/app';
import { ana, msg } from '../test/fixtures';

describe('optimistic send', () => {
  let t: ReturnType<typeof setup>;
  beforeEach(async () => {
    t = setup();
    await t.controller.start(ana, null);
    await t.timelines.openRoom('r1');
  });

  it('goes pending → sent on ack, keeping one copy', async () => {
    const clientId = t.sending.send('r1', 'hello');
    let mine = t.messages().filter((m) => m.clientId === clientId);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.status).toBe('pending');
    expect(t.sends[0]!.payload).toMatchObject({ roomId: 'r1', content: 'hello', clientId });

    const stored = msg(3, { userId: ana.id, user: ana, content: 'hello', clientId });
    // The broadcast can arrive before the ack: still one message.
    t.server().onRoomChange({ kind: 'new', roomId: 'r1', eventSeq: 3, message: stored });
    t.sends[0]!.ack.resolve({ ok: true, message: stored });
    await flush();
    mine = t.messages().filter((m) => m.clientId === clientId || m.id === stored.id);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.status).toBe('sent');
    expect(mine[0]!.id).toBe('m3');
  });

  it('goes pending → failed on an error ack, and retry reuses the same clientId', async () => {
    const clientId = t.sending.send('r1', 'hello');
    t.sends[0]!.ack.resolve({ ok: false, error: { code: 'timeout', message: 'The server did not answer in time' } });
    await flush();
    const failed = t.messages().find((m) => m.clientId === clientId)!;
    expect(failed.status).toBe('failed');
    expect(failed.sendError).toMatch(/did not answer/);

    t.sending.retry('r1', clientId);
    expect(t.messages().find((m) => m.clientId === clientId)!.status).toBe('pending');
    expect(t.sends).toHaveLength(2);
    expect(t.sends[1]!.payload.clientId).toBe(clientId);

    // The server had stored the first try after all: the replay acks the same message.
    const stored = msg(3, { userId: ana.id, user: ana, content: 'hello', clientId });
    t.sends[1]!.ack.resolve({ ok: true, message: stored });
    t.server().onRoomChange({ kind: 'new', roomId: 'r1', eventSeq: 3, message: stored });
    await flush();
    expect(t.messages().map((m) => m.id)).toEqual(['m1', 'm2', 'm3']);
    expect(t.messages()[2]!.status).toBe('sent');
  });

  it('a failed message can be discarded', async () => {
    const clientId = t.sending.send('r1', 'oops');
    t.sends[0]!.ack.resolve({ ok: false, error: { code: 'invalid', message: 'bad' } });
    await flush();
    t.sending.discard('r1', clientId);
    expect(t.messages().some((m) => m.clientId === clientId)).toBe(false);
  });
});

