// The worker's smoke training, run on tfjs `cpu` in Node: every step is reported, the loss falls
// well below where it started, and no tensor outlives the run.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { smokeTrain } from '../workers/smokeTrain';

describe('smokeTrain', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('reduces the loss and reports every step', async () => {
    const seen: number[] = [];
    const losses = await smokeTrain(20, (s) => seen.push(s.step));
    console.log(`smoke losses: first ${losses[0].toFixed(4)} last ${losses[19].toFixed(4)}`);
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[19]).toBeLessThan(0.5 * losses[0]);
  });

  it('leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    await smokeTrain(3, () => {});
    expect(tf.memory().numTensors).toBe(before);
  });
});
