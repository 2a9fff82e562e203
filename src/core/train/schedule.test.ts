// Learning-rate schedules against values computed by hand.
import { describe, expect, it } from 'vitest';
import { learningRate, type ScheduleSettings } from './schedule';

const at = (s: ScheduleSettings, steps: number[]) => steps.map((t) => learningRate(t, s));

describe('learningRate', () => {
  it('warms up linearly from 0, then decays linearly to 0', () => {
    const s: ScheduleSettings = { peak: 1, warmup: 4, total: 12, kind: 'linear' };
    // warm-up t/4; decay (12 - t) / 8
    const want = [0, 0.25, 0.5, 0.75, 1, 7 / 8, 6 / 8, 5 / 8, 4 / 8, 3 / 8, 2 / 8, 1 / 8];
    const got = at(
      s,
      want.map((_, t) => t),
    );
    got.forEach((v, t) => expect(v).toBeCloseTo(want[t], 12));
  });

  it('decays along a cosine to 0', () => {
    const s: ScheduleSettings = { peak: 2e-3, warmup: 2, total: 6, kind: 'cosine' };
    // t=2: progress 0 → peak; t=3: ¼ → ½(1+cos(π/4)); t=4: ½ → ½ peak; t=5: ¾ → ½(1−cos(π/4))
    const c = Math.SQRT1_2;
    const want = [0, 1e-3, 2e-3, 2e-3 * 0.5 * (1 + c), 1e-3, 2e-3 * 0.5 * (1 - c)];
    at(s, [0, 1, 2, 3, 4, 5]).forEach((v, t) => expect(v).toBeCloseTo(want[t], 15));
  });

  it('stays constant after the warm-up', () => {
    expect(at({ peak: 3, warmup: 3, total: 10, kind: 'constant' }, [0, 1, 2, 3, 9])).toEqual([0, 1, 2, 3, 3]);
  });

  it('uses exactly the peak for the first update when there is no warm-up, whatever the schedule', () => {
    for (const kind of ['linear', 'cosine', 'constant'] as const) {
      expect(learningRate(0, { peak: 0.0123, warmup: 0, total: 1, kind })).toBe(0.0123);
      expect(learningRate(0, { peak: 0.0123, warmup: 0, total: 50, kind })).toBe(0.0123);
    }
  });
});
