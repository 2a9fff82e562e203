/** Trains a tiny network in the worker on the active backend: proof that training works here. */
import { useState } from 'react';
import { backendLabel } from '../backendText';
import { runSmokeTest } from '../smokeTest';
import { useStudio } from '../store';

export function SmokeTest() {
  const [steps, setSteps] = useState(20);
  const smokeTest = useStudio((s) => s.smokeTest);
  const ready = useStudio((s) => s.worker !== null && s.backend.status === 'ready');
  const running = smokeTest.status === 'running';
  const latest = running ? smokeTest.progress.at(-1) : undefined;

  return (
    <section className="smoke-test" aria-labelledby="smoke-test-title">
      <h2 id="smoke-test-title">Smoke test</h2>
      <p>
        Trains a tiny network (4 → 16 → 1, Adam) for a few steps in the worker, to check that training works on this
        backend.
      </p>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void runSmokeTest(steps);
        }}
      >
        <label>
          Steps{' '}
          <input
            type="number"
            min={1}
            max={1000}
            value={steps}
            onChange={(e) => setSteps(Math.max(1, Math.min(1000, Math.round(Number(e.target.value)) || 1)))}
          />
        </label>{' '}
        <button type="submit" disabled={!ready || running}>
          Run smoke test
        </button>
      </form>

      <div role="status" data-testid="smoke-status" data-state={smokeTest.status}>
        {smokeTest.status === 'running' && (
          <>
            <progress max={smokeTest.steps} value={latest?.step ?? 0} aria-label="Smoke test progress" />{' '}
            {latest ? `step ${latest.step}/${latest.steps} · loss ${latest.loss.toFixed(4)}` : 'compiling kernels…'}
          </>
        )}
        {smokeTest.status === 'done' && (
          <>
            Trained {smokeTest.result.steps} steps on {backendLabel(smokeTest.result.backend)} in{' '}
            {(smokeTest.result.totalMs / 1000).toFixed(1)} s: loss {smokeTest.result.losses[0].toFixed(4)} →{' '}
            {smokeTest.result.losses.at(-1)?.toFixed(4)}
          </>
        )}
        {smokeTest.status === 'failed' && <span role="alert">Smoke test failed: {smokeTest.message}</span>}
      </div>

      {smokeTest.status === 'done' && (
        <details>
          <summary>Loss per step</summary>
          <ol data-testid="smoke-losses" data-backend={smokeTest.result.backend}>
            {smokeTest.result.losses.map((loss, i) => (
              <li key={i} data-loss={loss}>
                {loss.toFixed(6)}
              </li>
            ))}
          </ol>
        </details>
      )}
    </section>
  );
}
