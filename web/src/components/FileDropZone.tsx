// Drop files anywhere on the conversation to upload them into its room.
import { useRef, useState, type DragEvent, type ReactNode } from 'react';
import type { Id } from '../api/types';
import { uploads } from '../state';

const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer?.types ?? []).includes('Files');

/** Files dropped anywhere on the conversation are uploaded into its room. */
export function FileDropZone({ roomId, disabled, children }: { roomId: Id; disabled?: boolean; children: ReactNode }) {
  const [over, setOver] = useState(false);
  const depth = useRef(0);
  if (disabled) return <>{children}</>;
  return (
    <div
      className="drop-zone"
      data-testid="drop-zone"
      onDragEnter={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        depth.current += 1;
        setOver(true);
      }}
      onDragOver={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
      }}
      onDragLeave={(e) => {
        if (!hasFiles(e)) return;
        depth.current = Math.max(0, depth.current - 1);
        if (depth.current === 0) setOver(false);
      }}
      onDrop={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        depth.current = 0;
        setOver(false);
        if (e.dataTransfer.files.length > 0) uploads.add(roomId, Array.from(e.dataTransfer.files));
      }}
    >
      {children}
      {over && (
        <div className="drop-overlay" aria-hidden="true">
          <div className="drop-overlay-inner">Drop files to upload</div>
        </div>
      )}
    </div>
  );
}
