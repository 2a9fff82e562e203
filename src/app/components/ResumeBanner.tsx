/** After a reload mid-run: offers to continue each interrupted run from its last checkpoint. */
import { discardCheckpoint, resumeCheckpoint } from '../actions/train';
import { useStudio } from '../store';

export function ResumeBanner() {
  const checkpoints = useStudio((s) => s.checkpoints);
  const modelReady = useStudio((s) => s.model.status === 'ready');
  if (checkpoints.length === 0) return null;
  return (
    <div className="banner" role="region" aria-label="Interrupted runs" data-testid="resume-banner">
      {checkpoints.map((c) => (
        <p key={c.runId}>
          Run <strong>{c.name}</strong> ({c.method}) stopped at step {c.step} of {c.steps}
          {c.modelSource.kind === 'files' ? `; load ${c.modelSource.name} from disk again to continue it` : ''}.{' '}
          <button type="button" disabled={!modelReady} onClick={() => void resumeCheckpoint(c)}>
            Resume from step {c.step}
          </button>{' '}
          <button type="button" onClick={() => void discardCheckpoint(c.runId)}>
            Discard
          </button>
        </p>
      ))}
    </div>
  );
}
