// The @mention suggestion list above the composer.
import type { User } from '../api/types';
import { Avatar } from './Avatar';

interface Props {
  id: string;
  users: User[];
  active: number;
  onPick: (u: User) => void;
}

export function MentionSuggestions({ id, users, active, onPick }: Props) {
  return (
    <ul className="mention-list" id={id} role="listbox" aria-label="Mention someone" data-testid="mention-suggestions">
      {users.map((u, i) => (
        <li
          key={u.id}
          id={`${id}-${i}`}
          role="option"
          aria-selected={i === active}
          className={i === active ? 'mention-option active' : 'mention-option'}
          onMouseDown={(e) => {
            e.preventDefault();
            onPick(u);
          }}
        >
          <Avatar user={u} size={22} />
          <span className="mention-name">{u.name}</span>
          <span className="muted">@{u.username}</span>
        </li>
      ))}
    </ul>
  );
}
