/** What happened when the training worker died (GPU device lost, crash) and what the studio did about it. */
import { useStudio } from '../store';

export function WorkerNotice() {
  const notice = useStudio((s) => s.workerNotice);
  if (!notice) return null;
  return (
    <div className="banner" role="status" data-testid="worker-notice">
      <p>
        {notice}{' '}
        <button type="button" onClick={() => useStudio.setState({ workerNotice: null })}>
          Dismiss
        </button>
      </p>
    </div>
  );
}
