/** Saving and restoring a whole setup: a JSON file, or the link (the URL hash is kept current). */
import { useState } from 'react';
import { downloadBytes } from '../actions/adapters';
import { settingsFromJson, settingsToJson } from '../settings';
import { useStudio } from '../store';

export function SettingsMenu() {
  const problems = useStudio((s) => s.settingsProblems);
  const [note, setNote] = useState<string | null>(null);
  const load = async (file: File) => {
    const { settings, problems: found } = settingsFromJson(await file.text(), file.name);
    useStudio.setState({ settings, settingsProblems: found });
    setNote(found.length ? null : `Settings restored from ${file.name}.`);
  };
  return (
    <div className="settings-menu" role="group" aria-label="Settings file">
      <button
        type="button"
        onClick={() =>
          downloadBytes('s2ft-studio-settings.json', settingsToJson(useStudio.getState().settings), 'application/json')
        }
      >
        Save settings
      </button>
      <label className="file-input-label">
        Load settings…{' '}
        <input
          type="file"
          accept=".json,application/json"
          onChange={(e) => {
            const file = e.target.files?.[0];
            e.target.value = '';
            if (file) void load(file);
          }}
        />
      </label>
      <button
        type="button"
        onClick={() =>
          void navigator.clipboard?.writeText(window.location.href).then(
            () => setNote('Link copied.'),
            () => setNote('The address bar holds the link to this setup.'),
          )
        }
      >
        Copy link
      </button>
      {note && (
        <span role="status" className="muted">
          {note}
        </span>
      )}
      {problems.length > 0 && (
        <div role="alert" className="task-error" data-testid="settings-problems">
          Some settings were not restored: {problems.join('; ')}.{' '}
          <button type="button" onClick={() => useStudio.setState({ settingsProblems: [] })}>
            Dismiss
          </button>
        </div>
      )}
    </div>
  );
}
