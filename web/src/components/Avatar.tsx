// A user's avatar: initials on a colour from their id, with an optional presence dot.
import type { CSSProperties } from 'react';
import { hueFor, initials } from '../lib/avatar';
import { PresenceDot } from './PresenceDot';

interface Props {
  user: { id: string; name?: string; username: string };
  size?: number;
  /** Shows a presence dot when a boolean is given. */
  online?: boolean;
}

export function Avatar({ user, size = 36, online }: Props) {
  const style = { '--hue': hueFor(user.id), '--size': `${size}px` } as CSSProperties;
  return (
    <span className="avatar" style={style} aria-hidden={online === undefined ? true : undefined}>
      <span className="avatar-initials" aria-hidden="true">
        {size <= 24 ? initials(user.name || user.username).slice(0, 1) : initials(user.name || user.username)}
      </span>
      {online !== undefined && <PresenceDot online={online} />}
    </span>
  );
}
