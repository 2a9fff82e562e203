/**
 * The wasm backend's replacement kernels (this folder) against the cpu backend: gathers on every
 * axis (float and int, a leading and a trailing run), matmuls with each operand transposed,
 * batched, broadcast, and with the same right operand again (its transposed copy is then kept,
 * and must be dropped when the operand is freed), the segment sum, and sums over leading axes
 * (kept dims, a negative axis, and the cases left to tfjs's kernel); plus a refused out-of-range index.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../cli/lib/backend';

type Case = [name: string, f: () => tf.Tensor];

const cases: Case[] = [
  [
    'gather axis 0 (rows, a run of 6)',
    () => tf.gather(tf.range(0, 60).reshape([10, 6]), tf.tensor1d([3, 0, 9, 3], 'int32'), 0),
  ],
  [
    'gather axis 1 (single elements)',
    () => tf.gather(tf.range(0, 60).reshape([10, 6]).toFloat(), tf.tensor1d([5, 0, 2], 'int32'), 1),
  ],
  [
    'gather axis 1 of 3-D (runs of 4)',
    () => tf.gather(tf.range(0, 120).reshape([2, 15, 4]), tf.tensor1d([14, 1], 'int32'), 1),
  ],
  [
    'gather axis -1, int32',
    () => tf.gather(tf.range(0, 24, 1, 'int32').reshape([4, 6]), tf.tensor1d([1, 1, 4], 'int32'), -1),
  ],
  [
    'gather 2-D indices',
    () =>
      tf.gather(
        tf.range(0, 30).reshape([10, 3]),
        tf.tensor2d(
          [
            [1, 2],
            [9, 0],
          ],
          [2, 2],
          'int32',
        ),
        0,
      ),
  ],
  [
    'matMul a·bᵀ',
    () =>
      tf.matMul(tf.randomNormal([7, 5], 0, 1, 'float32', 1), tf.randomNormal([3, 5], 0, 1, 'float32', 2), false, true),
  ],
  [
    'matMul aᵀ·b',
    () =>
      tf.matMul(tf.randomNormal([5, 7], 0, 1, 'float32', 3), tf.randomNormal([5, 3], 0, 1, 'float32', 4), true, false),
  ],
  [
    'matMul aᵀ·b and x·Wᵀ at [19, 70] (transposes in 8-row groups and 64-column bands, with remainders)',
    () =>
      tf.concat([
        tf.matMul(
          tf.randomNormal([19, 70], 0, 1, 'float32', 25),
          tf.randomNormal([19, 5], 0, 1, 'float32', 26),
          true,
          false,
        ),
        tf
          .matMul(
            tf.randomNormal([5, 19], 0, 1, 'float32', 27),
            tf.randomNormal([70, 19], 0, 1, 'float32', 28),
            false,
            true,
          )
          .transpose(),
      ]),
  ],
  [
    'batched matMul aᵀ·bᵀ',
    () =>
      tf.matMul(
        tf.randomNormal([2, 5, 7], 0, 1, 'float32', 5),
        tf.randomNormal([2, 3, 5], 0, 1, 'float32', 6),
        true,
        true,
      ),
  ],
  [
    'batched matMul q·kᵀ [2, 3, 6, 4]',
    () =>
      tf.matMul(
        tf.randomNormal([2, 3, 6, 4], 0, 1, 'float32', 7),
        tf.randomNormal([2, 3, 5, 4], 0, 1, 'float32', 8),
        false,
        true,
      ),
  ],
  [
    'batched matMul pᵀ·v, b broadcast from one batch',
    () => tf.matMul(tf.randomNormal([3, 6, 5], 0, 1, 'float32', 9), tf.randomNormal([6, 4], 0, 1, 'float32', 10), true),
  ],
  [
    'matMul x·Wᵀ three times with one W (kept copy), then a new W with the same shape',
    () => {
      const w = tf.randomNormal([5, 9], 0, 1, 'float32', 11);
      const x = tf.randomNormal([4, 9], 0, 1, 'float32', 12);
      const first = [0, 1, 2].map((i) => tf.matMul(tf.add(x, i), w, false, true));
      w.dispose(); // frees the kept copy
      const w2 = tf.randomNormal([5, 9], 0, 1, 'float32', 13);
      const again = [0, 1].map(() => tf.matMul(x, w2, false, true));
      return tf.concat([...first, ...again]);
    },
  ],
  ['sum axis 0 (a column sum)', () => tf.sum(tf.randomNormal([37, 5], 0, 1, 'float32', 20), 0)],
  ['sum axes [1, 0] of 3-D, keepDims', () => tf.sum(tf.randomNormal([4, 6, 3], 0, 1, 'float32', 21), [1, 0], true)],
  ['sum axis -3 of 3-D', () => tf.sum(tf.randomNormal([4, 6, 3], 0, 1, 'float32', 22), -3)],
  ['sum axis 1 (not leading: tfjs)', () => tf.sum(tf.randomNormal([4, 6, 3], 0, 1, 'float32', 23), 1)],
  ['sum of every axis (tfjs)', () => tf.sum(tf.randomNormal([4, 6], 0, 1, 'float32', 24))],
  ['sum axis 0, int32 (tfjs)', () => tf.sum(tf.range(0, 12, 1, 'int32').reshape([4, 3]), 0)],
  [
    'unsortedSegmentSum',
    () => tf.unsortedSegmentSum(tf.range(0, 12).reshape([6, 2]), tf.tensor1d([2, 0, 2, 1, 0, 2], 'int32'), 4),
  ],
];

async function run(backend: () => Promise<unknown>): Promise<number[][]> {
  await backend();
  return Promise.all(cases.map(async ([, f]) => Array.from(await tf.tidy(f).data())));
}

describe('wasm backend replacement kernels', () => {
  let cpu: number[][];
  let wasm: number[][];
  beforeAll(async () => {
    cpu = await run(() => tf.setBackend('cpu'));
    wasm = await run(initNodeBackend);
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it.each(cases.map(([name], i) => [name, i] as const))('%s equals the cpu backend', (name, i) => {
    const diff = Math.max(...cpu[i].map((v, j) => Math.abs(v - wasm[i][j])));
    console.log(`${name}: ${cpu[i].length} values, max |wasm − cpu| ${diff.toExponential(2)} (tolerance 1e-5)`);
    expect(wasm[i]).toHaveLength(cpu[i].length);
    expect(diff).toBeLessThanOrEqual(1e-5);
  });

  it('refuses an index outside the gathered axis', async () => {
    await initNodeBackend();
    expect(() => tf.tidy(() => tf.gather(tf.ones([4, 2]), tf.tensor1d([4], 'int32'), 0))).toThrow(
      /index 4 is not in \[0, 3\]/,
    );
  });
});
