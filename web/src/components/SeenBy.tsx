// "Seen by …" under a room's last message.
import { useMemo } from 'react';
import { useRooms, useTimelines } from '../state';
import { isLocal } from '../state/timeline';

/** "Seen by …" under the room's last message, from the read cursors we have heard. */
export function SeenBy({ roomId }: { roomId: string }) {
  const cursors = useRooms((s) => s.readCursors[roomId]);
  const members = useRooms((s) => s.members[roomId]);
  const messages = useTimelines((s) => s.timelines[roomId]?.messages);
  const me = useRooms((s) => s.me);
  const text = useMemo(() => {
    if (!cursors || !messages) return '';
    let last;
    for (let i = messages.length - 1; i >= 0; i--) {
      if (!isLocal(messages[i]!)) {
        last = messages[i]!;
        break;
      }
    }
    if (!last) return '';
    const names: string[] = [];
    for (const [userId, seq] of Object.entries(cursors)) {
      if (seq < last.seq || userId === me?.id || userId === last.userId) continue;
      const m = members?.find((x) => x.user.id === userId);
      names.push(m ? m.user.name || m.user.username : 'someone');
    }
    if (names.length === 0) return '';
    if (names.length <= 3) return `Seen by ${names.join(', ')}`;
    return `Seen by ${names.slice(0, 3).join(', ')} and ${names.length - 3} more`;
  }, [cursors, members, messages, me]);
  return (
    <div className="seen-by" data-testid="seen-by">
      {text}
    </div>
  );
}
