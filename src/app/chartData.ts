/** Training history → chart rows. Pure, so the Train and Compare panels draw the same numbers. */
import type { EvalPoint, StepPoint } from '../../workers/api';
import type { ChartPoint } from './components/chartTypes';

const MiB = 2 ** 20;

/**
 * Exponential moving average with TensorBoard's debiasing: the first values are not pulled
 * toward zero, so the smoothed curve starts where the raw one does.
 */
export function smooth(values: readonly number[], weight = 0.8): number[] {
  let last = 0;
  return values.map((v, i) => {
    last = weight * last + (1 - weight) * v;
    return last / (1 - weight ** (i + 1));
  });
}

export function lossRows(steps: readonly StepPoint[], evals: readonly EvalPoint[]): ChartPoint[] {
  const smoothed = smooth(steps.map((s) => s.loss));
  const rows = new Map<number, ChartPoint>();
  steps.forEach((s, i) => rows.set(s.step, { step: s.step, loss: s.loss, smoothed: smoothed[i] }));
  for (const e of evals) {
    if (e.evalLoss === null) continue;
    rows.set(e.step, { ...(rows.get(e.step) ?? { step: e.step }), evalLoss: e.evalLoss });
  }
  return [...rows.values()].sort((a, b) => a.step - b.step);
}

export function stepRows(steps: readonly StepPoint[]): ChartPoint[] {
  return steps.map((s) => ({
    step: s.step,
    lr: s.lr,
    gradNorm: s.gradNorm,
    tokensPerSec: s.tokensPerSec,
    inUseMiB: s.bytesInUse / MiB,
    allocatedMiB: s.bytesAllocated === null ? undefined : s.bytesAllocated / MiB,
  }));
}

export function forgettingRows(evals: readonly EvalPoint[]): ChartPoint[] {
  return evals
    .filter((e) => e.heldoutLoss !== null)
    .map((e) => ({ step: e.step, heldout: e.heldoutLoss!, forgetting: e.forgetting ?? undefined }));
}

/** Several runs' loss curves on one step axis: columns named by run id. */
export function overlayRows(runs: readonly { runId: string; steps: readonly StepPoint[] }[]): ChartPoint[] {
  const rows = new Map<number, ChartPoint>();
  for (const run of runs) {
    const smoothed = smooth(run.steps.map((s) => s.loss));
    run.steps.forEach((s, i) =>
      rows.set(s.step, { ...(rows.get(s.step) ?? { step: s.step }), [run.runId]: smoothed[i] }),
    );
  }
  return [...rows.values()].sort((a, b) => a.step - b.step);
}
