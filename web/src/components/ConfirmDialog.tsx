// A yes/no dialog for destructive actions (leave a room, delete a message).
import type { ReactNode } from 'react';
import { Dialog } from './Dialog';

interface Props {
  title: string;
  confirmLabel: string;
  danger?: boolean;
  children: ReactNode;
  onConfirm: () => void;
  onCancel: () => void;
}

export function ConfirmDialog({ title, confirmLabel, danger, children, onConfirm, onCancel }: Props) {
  return (
    <Dialog title={title} onClose={onCancel} size="small" testId="confirm-dialog">
      <div className="confirm-body">{children}</div>
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className={danger ? 'button button-danger' : 'button button-primary'} onClick={onConfirm} data-autofocus>
          {confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}
