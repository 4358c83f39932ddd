// Tests of the rooms store: member lists follow room:user-left.
import { describe, expect, it, vi } from 'vitest';
import { flush, setup } from '../test/app';
import { ana } from '../test/fixtures';

describe('members', () => {
  it('room:user-left reloads a member list that is shown', async () => {
    const t = setup();
    await t.controller.start(ana, null);
    await t.timelines.openRoom('r1');
    await flush();
    const members = vi.fn(async () => ({ members: [] }));
    (t.restFake as unknown as { members: typeof members }).members = members;
    t.server().onUserLeft({ roomId: 'r1', user: ana });
    await flush();
    expect(members).toHaveBeenCalledWith('r1');
  });
});
