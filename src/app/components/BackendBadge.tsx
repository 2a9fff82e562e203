/**
 * Which tfjs backend training runs on, with a visible note on fallback; pressing the badge opens
 * the diagnostics (adapter details and the smoke test).
 */
import { useState } from 'react';
import { backendDetails, backendLabel, fallbackNote } from '../backendText';
import { useStudio } from '../store';
import { Diagnostics } from './Diagnostics';

export function BackendBadge() {
  const backend = useStudio((s) => s.backend);
  const [open, setOpen] = useState(false);
  if (backend.status === 'starting') {
    return (
      <div className="backend" aria-live="polite">
        <span className="badge badge-pending" data-testid="backend-badge" aria-busy="true">
          Starting…
        </span>
      </div>
    );
  }
  if (backend.status === 'failed') {
    return (
      <div className="backend" aria-live="polite">
        <span className="badge badge-error" data-testid="backend-badge">
          No backend
        </span>
        <p className="backend-note" role="alert">
          The training worker could not start: {backend.message}
        </p>
      </div>
    );
  }
  const { info } = backend;
  const note = fallbackNote(info);
  const details = backendDetails(info);
  return (
    <div className="backend" aria-live="polite">
      <button
        type="button"
        className={`badge badge-${info.backend}`}
        data-testid="backend-badge"
        title={details}
        aria-describedby="backend-details"
        aria-expanded={open}
        aria-controls="diagnostics"
        onClick={() => setOpen(!open)}
      >
        {backendLabel(info.backend)}
      </button>
      <span id="backend-details" className="visually-hidden">
        {details}
      </span>
      {note && (
        <p className="backend-note" data-testid="backend-note">
          {note}
        </p>
      )}
      {!open && <p className="backend-note">Press the badge for diagnostics.</p>}
      {open && <Diagnostics details={details} onClose={() => setOpen(false)} />}
    </div>
  );
}
