/** Which tfjs backend training runs on; hover for adapter details, and a visible note on fallback. */
import { backendDetails, backendLabel, fallbackNote } from '../backendText';
import { useStudio } from '../store';

export function BackendBadge() {
  const backend = useStudio((s) => s.backend);
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
      <span
        className={`badge badge-${info.backend}`}
        data-testid="backend-badge"
        title={details}
        tabIndex={0}
        aria-describedby="backend-details"
      >
        {backendLabel(info.backend)}
      </span>
      <span id="backend-details" className="visually-hidden">
        {details}
      </span>
      {note && (
        <p className="backend-note" data-testid="backend-note">
          {note}
        </p>
      )}
    </div>
  );
}
