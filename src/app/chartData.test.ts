import { describe, expect, it } from 'vitest';
import { overlayRows, smooth } from './chartData';
import type { StepPoint } from '../../workers/api';

describe('chart data', () => {
  it('smooths with a debiased moving average, checked by hand', () => {
    // w = 0.5: m1 = 0.5·2 = 1 → 1/0.5 = 2; m2 = 0.5·1 + 0.5·4 = 2.5 → 2.5/0.75 = 3.333…
    const got = smooth([2, 4], 0.5);
    const want = [2, 2.5 / 0.75];
    const maxDiff = Math.max(...got.map((g, i) => Math.abs(g - want[i])));
    console.log(`smooth max diff ${maxDiff.toExponential(2)} (tolerance 1e-12)`);
    expect(maxDiff).toBeLessThan(1e-12);
    expect(smooth([5, 5, 5, 5])).toEqual([5, 5, 5, 5].map(() => expect.closeTo(5, 12)));
  });

  it('overlays runs on one step axis', () => {
    const point = (step: number, loss: number) => ({ step, loss }) as StepPoint;
    const rows = overlayRows([
      { runId: 'a', steps: [point(1, 3), point(2, 3)] },
      { runId: 'b', steps: [point(2, 1)] },
    ]);
    expect(rows.map((r) => [r.step, r.a, r.b])).toEqual([
      [1, 3, undefined],
      [2, expect.closeTo(3, 12), 1],
    ]);
  });
});
