/**
 * The committed results of bench/experiments/claims.ts (S²FT, LoRA and full FT on the embedded
 * model and the number-words task: generalization, forgetting, fusion), bundled with the studio so
 * they show offline.
 */
import claimsJson from '../../../bench/results/claims.json';
import {
  armSummaries,
  claimsFindings,
  formatDelta,
  formatLoss,
  formatPercent,
  fusionSummaries,
  type ClaimsResults,
} from '../../core/claims';
import { formatCount } from '../format';

const claims = claimsJson as ClaimsResults;

export function MeasuredClaims() {
  const arms = armSummaries(claims);
  const fusion = fusionSummaries(claims);
  const verdicts = claimsFindings(claims).filter((f) => f.verdict !== null);
  const s = claims.settings;
  const dataset = s.dataset.split('/').pop();
  return (
    <section aria-labelledby="claims-heading" data-testid="claims">
      <h3 id="claims-heading">Measured on the embedded model</h3>
      <p className="muted">
        {claims.model.name} fine-tuned on the {dataset} task for {s.steps} steps of batch {s.batchSize}, seeds{' '}
        {s.seeds.join(', ')}, every method with the same batches ({claims.machine.date.slice(0, 10)}). Accuracy is exact
        match of the greedy answer, loss the answer tokens&apos; cross-entropy, on {s.splits.inDistribution.rows}{' '}
        in-distribution rows ({s.splits.inDistribution.what}) and {s.splits.shifted.rows} shifted rows (
        {s.splits.shifted.what}); forgetting is the change in held-out Moby Dick loss. Mean over seeds (range). From{' '}
        <code>npx tsx bench/experiments/claims.ts</code>; the README&apos;s Benchmarks section has the details.
      </p>
      <table className="compare" data-testid="claims-table">
        <caption className="visually-hidden">Generalization and forgetting by method</caption>
        <thead>
          <tr>
            <th scope="col">Method</th>
            <th scope="col">Trainable</th>
            <th scope="col">In-distribution: accuracy · loss</th>
            <th scope="col">Shifted: accuracy · loss</th>
            <th scope="col">Forgetting</th>
          </tr>
        </thead>
        <tbody>
          {arms.map((a) => (
            <tr key={a.arm} data-arm={a.arm}>
              <th scope="row">{a.label}</th>
              <td>{a.trainableParams === 0 ? '–' : formatCount(a.trainableParams)}</td>
              <td>
                {formatPercent(a.inDistribution)} · {formatLoss(a.inDistributionLoss)}
              </td>
              <td>
                {formatPercent(a.shifted)} · {formatLoss(a.shiftedLoss)}
              </td>
              <td>{a.arm === 'base' ? '–' : formatDelta(a.forgetting)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {fusion.length > 0 && (
        <table className="compare" data-testid="claims-fusion">
          <caption className="visually-hidden">Fusing two S²FT adapters</caption>
          <thead>
            <tr>
              <th scope="col">Fused adapters</th>
              <th scope="col">Group A ({s.fusionGroups.a.join(', ')}): alone → fused</th>
              <th scope="col">Group B ({s.fusionGroups.b.join(', ')}): alone → fused</th>
            </tr>
          </thead>
          <tbody>
            {fusion.map((f) => (
              <tr key={f.kind}>
                <th scope="row">{f.kind} selections</th>
                <td>
                  {formatPercent(f.aloneA)} → {formatPercent(f.fusedA)}
                </td>
                <td>
                  {formatPercent(f.aloneB)} → {formatPercent(f.fusedB)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ul className="muted" data-testid="claims-verdicts">
        {verdicts.map((f) => (
          <li key={f.claim}>
            <strong>{f.verdict}</strong>: {f.claim}
          </li>
        ))}
      </ul>
    </section>
  );
}
