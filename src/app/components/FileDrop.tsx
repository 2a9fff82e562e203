/**
 * Choosing local files three ways: a folder picker (where the browser has one), a file input, and
 * drag and drop. The files are read in the browser; nothing is uploaded.
 */
import { useId, useState, type DragEvent, type ReactNode } from 'react';

interface DirectoryHandle {
  kind: 'directory';
  values(): AsyncIterable<{ kind: 'file' | 'directory'; getFile?: () => Promise<File> }>;
}

type PickerWindow = Window & { showDirectoryPicker?: (options?: { mode?: 'read' }) => Promise<DirectoryHandle> };

/** The files at the top of a picked folder (a HF checkpoint keeps everything there). */
async function pickFolder(picker: NonNullable<PickerWindow['showDirectoryPicker']>): Promise<File[] | null> {
  let handle: DirectoryHandle;
  try {
    handle = await picker({ mode: 'read' });
  } catch {
    return null; // the person closed the picker
  }
  const files: File[] = [];
  for await (const entry of handle.values()) {
    if (entry.kind === 'file' && entry.getFile) files.push(await entry.getFile());
  }
  return files;
}

export function FileDrop({
  label,
  accept,
  multiple = false,
  folder = false,
  onFiles,
  children,
  testId,
}: {
  label: string;
  accept?: string;
  multiple?: boolean;
  /** Offer "Choose folder…" through showDirectoryPicker where the browser has it. */
  folder?: boolean;
  onFiles: (files: File[]) => void;
  children?: ReactNode;
  testId?: string;
}) {
  const [over, setOver] = useState(false);
  const inputId = useId();
  const picker = (window as PickerWindow).showDirectoryPicker;
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setOver(false);
    const files = [...event.dataTransfer.files];
    if (files.length) onFiles(files);
  };
  return (
    <div
      className={`file-drop${over ? ' file-drop-over' : ''}`}
      data-testid={testId}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      {children}
      <div className="file-drop-actions">
        {folder && picker && (
          <button type="button" onClick={() => void pickFolder(picker).then((files) => files && onFiles(files))}>
            Choose folder…
          </button>
        )}
        <label htmlFor={inputId} className="file-input-label">
          {label}
        </label>
        <input
          id={inputId}
          type="file"
          accept={accept}
          multiple={multiple}
          onChange={(e) => {
            const files = [...(e.target.files ?? [])];
            e.target.value = '';
            if (files.length) onFiles(files);
          }}
        />
        <span className="file-drop-note">or drop {multiple ? 'files' : 'a file'} here</span>
      </div>
    </div>
  );
}
