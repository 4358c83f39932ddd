// A message's reaction chips.
import type { User } from '../api/types';
import { useRooms } from '../state';
import type { ChatMessage } from '../state/timeline';

interface Props {
  message: ChatMessage;
  me: User | null;
  onToggle: (emoji: string) => void;
}

/** Reaction chips: emoji and count; the title says who; mine are highlighted. */
export function Reactions({ message, me, onToggle }: Props) {
  const members = useRooms((s) => s.members[message.roomId]);
  if (!message.reactions || message.reactions.length === 0) return null;
  const nameOf = (id: string) => {
    if (me && id === me.id) return 'You';
    const m = members?.find((x) => x.user.id === id);
    return m ? m.user.name || m.user.username : 'someone';
  };
  return (
    <div className="reactions" data-testid="reactions">
      {message.reactions.map((r) => {
        const mine = !!me && r.userIds.includes(me.id);
        const who = r.userIds.map(nameOf);
        const whoText = who.length > 5 ? `${who.slice(0, 5).join(', ')} and ${who.length - 5} more` : who.join(', ');
        return (
          <button
            key={r.emoji}
            type="button"
            className={mine ? 'reaction reaction-mine' : 'reaction'}
            aria-pressed={mine}
            aria-label={`${r.emoji} ${r.count}: ${whoText}`}
            title={`${whoText} reacted with ${r.emoji}`}
            onClick={() => onToggle(r.emoji)}
            data-testid="reaction"
          >
            <span className="reaction-emoji">{r.emoji}</span>
            <span className="reaction-count">{r.count}</span>
          </button>
        );
      })}
    </div>
  );
}
