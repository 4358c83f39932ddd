// "Ana is typing…" under the messages.
import { useEffect, useState } from 'react';
import { useRooms, useTyping } from '../state';
import { formatTyping } from '../state/typing';

export function TypingIndicator({ roomId }: { roomId: string }) {
  const entries = useTyping((s) => s.typing[roomId]);
  const members = useRooms((s) => s.members[roomId]);
  const [now, setNow] = useState(() => Date.now());
  const live = entries
    ? Object.entries(entries)
        .filter(([, e]) => e.until > now)
        .map(([userId, e]) => {
          const m = members?.find((x) => x.user.id === userId);
          return { username: m?.user.name || e.username };
        })
    : [];
  useEffect(() => {
    if (!entries || Object.keys(entries).length === 0) return;
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [entries]);
  const text = formatTyping(live.map((e) => e.username));
  return (
    <div className="typing" data-testid="typing-indicator" aria-hidden={text ? undefined : true}>
      {text && (
        <>
          <span className="typing-dots" aria-hidden="true">
            <span />
            <span />
            <span />
          </span>
          <span>{text}</span>
        </>
      )}
    </div>
  );
}
