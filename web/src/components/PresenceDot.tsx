// The online/offline dot.
interface Props {
  online: boolean;
  label?: string;
}

export function PresenceDot({ online, label }: Props) {
  return (
    <span
      className={online ? 'presence presence-online' : 'presence presence-offline'}
      role="img"
      aria-label={label ?? (online ? 'Online' : 'Offline')}
      data-testid="presence-dot"
      data-online={online ? 'true' : 'false'}
    />
  );
}
