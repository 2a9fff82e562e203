/**
 * The run's effect at a glance: held-out exact match before and after, and each sample prompt's
 * greedy answer at step 0 beside its latest one.
 */
import { beforeAfter, formatScore } from '../beforeAfter';
import type { LiveRun } from '../store';

export function BeforeAfter({ live }: { live: LiveRun }) {
  const view = beforeAfter(live);
  if (view.before === null && view.samples.length === 0) return null;
  return (
    <section className="before-after card" aria-label="Before and after" data-testid="before-after">
      <h3>Before and after</h3>
      {view.before && (
        <p
          className="score-line"
          data-testid="exact-match"
          data-before={view.before.correct / view.before.total}
          data-after={view.after ? view.after.correct / view.after.total : undefined}
        >
          Held-out answers exactly right: <strong className="score-before">{formatScore(view.before)}</strong> before
          {view.after ? (
            <>
              {' → '}
              <strong className="score-after">{formatScore(view.after)}</strong> after step {view.after.step}
            </>
          ) : (
            ', after: when the run ends'
          )}
          <span className="muted"> (greedy answers to validation prompts the run never trains on)</span>
        </p>
      )}
      {view.samples.length > 0 && (
        <table className="compare side-by-side" data-testid="side-by-side">
          <caption className="muted">Greedy continuations of the same prompts</caption>
          <thead>
            <tr>
              <th scope="col">Prompt</th>
              <th scope="col">Before (step 0)</th>
              <th scope="col">After{view.afterStep !== null ? ` (step ${view.afterStep})` : ''}</th>
            </tr>
          </thead>
          <tbody>
            {view.samples.map((s) => (
              <tr key={s.prompt}>
                <th scope="row" className="sample">
                  {s.prompt}
                </th>
                <td className="sample">
                  <span className="sample-text">{s.before}</span>
                </td>
                <td className="sample">
                  {s.after === null ? <span className="muted">…</span> : <span className="sample-text">{s.after}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
