/**
 * Developer-facing details, out of the panels' way: the backend's adapter and limits as reported,
 * and the smoke test. Opened from the backend badge.
 */
import { SmokeTest } from '../panels/SmokeTest';

export function Diagnostics({ details, onClose }: { details: string; onClose: () => void }) {
  return (
    <section id="diagnostics" className="diagnostics card" aria-label="Diagnostics" data-testid="diagnostics">
      <div className="diagnostics-head">
        <h2>Diagnostics</h2>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      <h3>Backend</h3>
      <pre className="backend-details" data-testid="backend-details-text">
        {details}
      </pre>
      <SmokeTest />
    </section>
  );
}
