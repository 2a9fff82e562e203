/** Runs side by side: loss curves overlaid, the numbers that matter, and what was set differently. */
import { useMemo, useState } from 'react';
import { overlayRows } from '../chartData';
import { downloadRunCsv, downloadRunJson, importRunFile } from '../actions/results';
import { FileDrop } from '../components/FileDrop';
import { MetricChart } from '../components/MetricChart';
import { errorMessage } from '../errorMessage';
import { formatBytes, formatCount } from '../format';
import { deleteRun } from '../persistence';
import { settingsDiff } from '../settingsDiff';
import { useStudio } from '../store';
import { MeasuredClaims } from './MeasuredClaims';
import { PanelIntro } from './PanelIntro';

const COLOURS = ['#1f3a5f', '#c2410c', '#1c7c45', '#7c3aed', '#0e7490', '#9a6700', '#b42318'];

const fixed = (n: number | null, digits = 4) => (n === null ? '–' : n.toFixed(digits));

export function ComparePanel() {
  const runs = useStudio((s) => s.runs);
  const [hidden, setHidden] = useState<ReadonlySet<string>>(new Set());
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const shown = runs.filter((r) => !hidden.has(r.summary.runId));
  const overlay = useMemo(
    () => overlayRows(shown.map((r) => ({ runId: r.summary.runId, steps: r.history.steps }))),
    [shown],
  );
  const diff = useMemo(() => settingsDiff(shown.map((r) => r.summary)), [shown]);
  const toggle = (id: string) =>
    setHidden((h) => {
      const next = new Set(h);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const remove = (id: string) => {
    useStudio.setState((s) => ({ runs: s.runs.filter((r) => r.summary.runId !== id) }));
    void deleteRun(id);
  };
  const importFile = (file: File) => {
    setMessage(null);
    importRunFile(file).then(
      (run) => setMessage({ text: `Imported ${run.summary.name} (${run.history.steps.length} steps).`, error: false }),
      (e: unknown) => setMessage({ text: `Nothing imported: ${errorMessage(e)}`, error: true }),
    );
  };
  return (
    <>
      <PanelIntro>
        Compare S²FT with LoRA and full fine-tuning on the same model and data: loss curves, forgetting, speed, memory
        and trainable parameters side by side, and the settings that differ. Finished runs are kept across reloads; each
        downloads as JSON (settings, curves, samples, selection) or CSV (one row per step), and a JSON file imports back
        here.
      </PanelIntro>
      <FileDrop label="Import run…" accept=".json,application/json" testId="run-drop" onFiles={(f) => importFile(f[0])}>
        <p className="muted">A run file (.json) downloaded from this panel.</p>
      </FileDrop>
      {message && (
        <p
          role={message.error ? 'alert' : 'status'}
          data-testid="run-import-message"
          className={message.error ? 'task-error' : 'task-status'}
        >
          {message.text}
        </p>
      )}
      {runs.length === 0 && (
        <p className="muted" data-testid="compare-empty">
          No finished runs yet: train in the Train panel (or import a run file), then compare here.
        </p>
      )}
      {runs.length > 0 && (
        <>
          <table className="compare" data-testid="compare-table">
            <caption className="visually-hidden">Finished runs</caption>
            <thead>
              <tr>
                <th scope="col">Show</th>
                <th scope="col">Run</th>
                <th scope="col">Method</th>
                <th scope="col">Steps</th>
                <th scope="col">Final loss</th>
                <th scope="col">Validation loss</th>
                <th scope="col">Forgetting</th>
                <th scope="col">Step time</th>
                <th scope="col">Peak memory</th>
                <th scope="col">Trainable</th>
                <th scope="col">Download</th>
                <th scope="col">
                  <span className="visually-hidden">Remove</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r, i) => {
                const s = r.summary;
                return (
                  <tr key={s.runId} data-run={s.name} data-method={s.method}>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`Show ${s.name}`}
                        checked={!hidden.has(s.runId)}
                        onChange={() => toggle(s.runId)}
                      />
                    </td>
                    <th scope="row">
                      <span className="swatch" style={{ background: COLOURS[i % COLOURS.length] }} />
                      {s.name}
                      {s.status !== 'done' ? ` (${s.status})` : ''}
                    </th>
                    <td>{s.method}</td>
                    <td>{s.stepsDone}</td>
                    <td data-testid="final-loss">{fixed(s.finalLoss)}</td>
                    <td>{fixed(s.finalEvalLoss)}</td>
                    <td>
                      {s.forgettingDelta === null
                        ? '–'
                        : `${s.forgettingDelta >= 0 ? '+' : ''}${s.forgettingDelta.toFixed(4)}`}
                    </td>
                    <td>{s.medianStepMs === null ? '–' : `${s.medianStepMs.toFixed(0)} ms`}</td>
                    <td>{s.peakBytes === null ? '–' : formatBytes(s.peakBytes)}</td>
                    <td data-testid="trainable">{formatCount(s.trainableParams)}</td>
                    <td>
                      <span className="actions">
                        <button
                          type="button"
                          aria-label={`Download ${s.name} as JSON`}
                          onClick={() => downloadRunJson(r)}
                        >
                          JSON
                        </button>
                        <button
                          type="button"
                          aria-label={`Download ${s.name} as CSV`}
                          onClick={() => downloadRunCsv(r)}
                        >
                          CSV
                        </button>
                      </span>
                    </td>
                    <td>
                      <button type="button" aria-label={`Remove ${s.name}`} onClick={() => remove(s.runId)}>
                        ✕
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <MetricChart
            testId="compare-chart"
            title="Training loss (smoothed)"
            data={overlay}
            allowLog
            width={640}
            height={260}
            series={shown.map((r) => ({
              key: r.summary.runId,
              name: r.summary.name,
              colour: COLOURS[runs.indexOf(r) % COLOURS.length],
            }))}
          />
          <h3>Settings that differ</h3>
          {diff.length === 0 ? (
            <p className="muted">The shown runs used the same settings.</p>
          ) : (
            <table className="compare" data-testid="settings-diff">
              <thead>
                <tr>
                  <th scope="col">Setting</th>
                  {shown.map((r) => (
                    <th key={r.summary.runId} scope="col">
                      {r.summary.name}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {diff.map((row) => (
                  <tr key={row.setting}>
                    <th scope="row">{row.setting}</th>
                    {row.values.map((v, i) => (
                      <td key={i}>{v}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
      <MeasuredClaims />
    </>
  );
}
