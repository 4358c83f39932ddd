// "New direct message": find someone and open the conversation with them.
import { useState } from 'react';
import type { Room } from '../api/types';
import { rooms, useRooms } from '../state';
import { Dialog } from './Dialog';
import { UserSearch } from './UserSearch';

interface Props {
  onClose: () => void;
  onOpened: (room: Room) => void;
}

export function NewDmDialog({ onClose, onOpened }: Props) {
  const me = useRooms((s) => s.me);
  const [error, setError] = useState<string | null>(null);
  return (
    <Dialog title="New direct message" onClose={onClose} testId="new-dm-dialog">
      <UserSearch
        label="Find someone"
        actionLabel="Message"
        exclude={me ? [me.id] : []}
        autoFocus
        onPick={async (u) => {
          try {
            const room = await rooms.openDm(u.id);
            onOpened(room);
            onClose();
          } catch (e) {
            setError(e instanceof Error ? e.message : 'Could not open the conversation');
          }
        }}
      />
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </Dialog>
  );
}
