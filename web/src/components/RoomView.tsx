// An open room: header (title, search, notify, members, settings, leave), messages, composer.
import { useState } from 'react';
import type { Room } from '../api/types';
import { rooms, sending, usePresence, useRooms } from '../state';
import { roomTitle } from '../state/rooms';
import type { ChatMessage } from '../state/timeline';
import { Composer } from './Composer';
import { FileDropZone } from './FileDropZone';
import { ConfirmDialog } from './ConfirmDialog';
import { Icon } from './Icon';
import { MemberList } from './MemberList';
import { MessageList } from './MessageList';
import { NotifyMenu } from './NotifyMenu';
import { PresenceDot } from './PresenceDot';
import { SearchBox } from './SearchBox';
import { TypingIndicator } from './TypingIndicator';
import { lastSeenText } from '../lib/time';

interface Props {
  room: Room;
  membersOpen: boolean;
  onToggleMembers: () => void;
  onOpenDrawer: () => void;
  onOpenSettings: () => void;
}

export function RoomView({ room, membersOpen, onToggleMembers, onOpenDrawer, onOpenSettings }: Props) {
  const peers = useRooms((s) => s.dmPeers);
  const peer = room.isDirect ? peers[room.id] : undefined;
  const peerPresence = usePresence((s) => (peer ? s.presence[peer.id] : undefined));
  const memberCount = useRooms((s) => s.members[room.id]?.length ?? 0);
  const [replyTo, setReplyTo] = useState<ChatMessage | null>(null);
  const [editing, setEditing] = useState<ChatMessage | null>(null);
  const [deleting, setDeleting] = useState<ChatMessage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [leaving, setLeaving] = useState(false);
  const title = roomTitle(room, peers);
  const canModerate = room.role === 'admin' || room.role === 'moderator';

  return (
    <div className={membersOpen && !room.isDirect ? 'room with-members' : 'room'}>
      <FileDropZone roomId={room.id}>
      <div className="room-main">
        <header className="room-header">
          <button type="button" className="icon-button drawer-button" aria-label="Open sidebar" onClick={onOpenDrawer}>
            <Icon name="menu" />
          </button>
          <div className="room-heading">
            <h1 className="room-title">
              {room.isDirect ? (
                peer && <PresenceDot online={peerPresence?.online ?? false} />
              ) : (
                <Icon name={room.isPrivate ? 'lock' : 'hash'} size={18} />
              )}
              <span data-testid="room-title">{title}</span>
            </h1>
            {room.isDirect ? (
              peer && (
                <p className="room-description">
                  @{peer.username} · {peerPresence?.online ? 'Online' : lastSeenText(peerPresence?.lastSeen ?? null)}
                </p>
              )
            ) : (
              room.description && <p className="room-description">{room.description}</p>
            )}
          </div>
          <SearchBox room={room} />
          <div className="room-header-actions">
            {room.role && <NotifyMenu room={room} onError={setError} />}
            {!room.isDirect && (
              <button
                type="button"
                className={membersOpen ? 'button button-ghost active' : 'button button-ghost'}
                onClick={onToggleMembers}
                aria-pressed={membersOpen}
                title="Show members"
              >
                <Icon name="users" size={16} />
                {/* the visible count is the start of the accessible name ("2 members") */}
                <span>{memberCount || ''}</span>
                <span className="visually-hidden">{memberCount === 1 ? ' member' : ' members'}</span>
              </button>
            )}
            {!room.isDirect && room.role === 'admin' && (
              <button type="button" className="icon-button" aria-label="Room settings" title="Room settings" onClick={onOpenSettings}>
                <Icon name="settings" />
              </button>
            )}
            {!room.isDirect && room.role && (
              <button type="button" className="icon-button" aria-label="Leave room" title="Leave room" onClick={() => setLeaving(true)}>
                <Icon name="logout" />
              </button>
            )}
          </div>
        </header>
        {error && (
          <div className="banner banner-error" role="alert">
            {error}
            <button type="button" className="link-button" onClick={() => setError(null)}>
              Dismiss
            </button>
          </div>
        )}
        <MessageList
          room={room}
          canModerate={canModerate}
          onReply={(m) => {
            setEditing(null);
            setReplyTo(m);
          }}
          onEdit={(m) => {
            setReplyTo(null);
            setEditing(m);
          }}
          onDelete={setDeleting}
          onError={setError}
        />
        <TypingIndicator roomId={room.id} />
        <Composer
          room={room}
          title={room.isDirect ? title : `#${title}`}
          replyTo={replyTo}
          editing={editing}
          onCancelReply={() => setReplyTo(null)}
          onStartEdit={setEditing}
          onCancelEdit={() => setEditing(null)}
          onError={setError}
        />
      </div>
      </FileDropZone>
      {membersOpen && !room.isDirect && <MemberList room={room} onClose={onToggleMembers} />}
      {leaving && (
        <ConfirmDialog
          title={`Leave #${room.name}?`}
          confirmLabel="Leave"
          danger
          onCancel={() => setLeaving(false)}
          onConfirm={async () => {
            setLeaving(false);
            try {
              await rooms.leave(room.id);
            } catch (e) {
              setError(`Could not leave: ${e instanceof Error ? e.message : 'something went wrong'}`);
            }
          }}
        >
          <p>
            You will stop getting its messages.
            {room.isPrivate ? ' It is private: to come back, someone has to invite you.' : ' You can join it again from the room browser.'}
          </p>
        </ConfirmDialog>
      )}
      {deleting && (
        <ConfirmDialog
          title="Delete message?"
          confirmLabel="Delete"
          danger
          onCancel={() => setDeleting(null)}
          onConfirm={async () => {
            const target = deleting;
            setDeleting(null);
            const err = await sending.remove(target.id);
            if (err) setError(`Could not delete: ${err}`);
          }}
        >
          <p>This removes the message for everyone in the room. It can’t be undone.</p>
          {deleting.content && <blockquote className="confirm-quote">{deleting.content.slice(0, 300)}</blockquote>}
        </ConfirmDialog>
      )}
    </div>
  );
}
