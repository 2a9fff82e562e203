import { describe, expect, it } from 'vitest';
import { bigramHeldOutLoss } from './bigram';

describe('bigram baseline', () => {
  it('matches a hand computation on a deterministic sequence', () => {
    // Train "0 1 0 1 0 1": every 0 is followed by 1 and every 1 by 0.
    const train = [0, 1, 0, 1, 0, 1];
    const heldOut = [0, 1, 0];
    const { heldOutLoss, lambda } = bigramHeldOutLoss(train, heldOut, 3);
    // With λ = 0.95 (the largest on the grid): p(1|0) = 0.95·1 + 0.05·(4/9), p(0|1) = 0.95·1 + 0.05·(4/9).
    const p = 0.95 + 0.05 * (4 / 9);
    const expected = -Math.log(p);
    console.log(`bigram loss ${heldOutLoss.toFixed(6)} expected ${expected.toFixed(6)} λ=${lambda}`);
    expect(lambda).toBeCloseTo(0.95, 6);
    expect(Math.abs(heldOutLoss - expected)).toBeLessThan(1e-9);
  });

  it('falls back to the unigram when the pairs were never seen', () => {
    const { heldOutLoss, lambda } = bigramHeldOutLoss([0, 0, 0, 0], [1, 2, 1], 3);
    expect(lambda).toBe(0);
    // unigram with add-one: counts [5, 1, 1] / 7
    expect(heldOutLoss).toBeCloseTo(-Math.log(1 / 7), 9);
  });
});
