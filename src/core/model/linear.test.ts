/**
 * The plain linear pairs against plain autodiff of tf.matMul + tf.add: frozenLinear's dx (and
 * no weight gradient), denseLinear's dx, dW and db with a random upstream gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { denseLinear, frozenLinear } from './linear';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const TOL = 1e-5;
const N = 6,
  IN = 10,
  OUT = 7;
const rand = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);
/** max |a − b| / max(1, max |b|). */
const relDiff = (a: tf.Tensor, b: tf.Tensor) =>
  tf.tidy(() => tf.sub(a, b).abs().max().dataSync()[0] / Math.max(1, b.abs().max().dataSync()[0]));
const plain = (x: tf.Tensor, W: tf.Tensor, b: tf.Tensor) => tf.add(tf.matMul(x, W, false, true), b);

describe('plain linear pairs equal autodiff', () => {
  it('frozenLinear: y and dx match; the weight gets no gradient path', () => {
    tf.tidy(() => {
      const x = rand([N, IN], 1) as tf.Tensor2D,
        W = rand([OUT, IN], 2) as tf.Tensor2D,
        b = rand([OUT], 3) as tf.Tensor1D;
      const R = rand([N, OUT], 4); // a random cotangent: L = Σ y·R
      const [dx] = tf.grads((xx: tf.Tensor) =>
        frozenLinear(xx as tf.Tensor2D, W, b)
          .mul(R)
          .sum(),
      )([x]);
      const [dxRef] = tf.grads((xx: tf.Tensor) => plain(xx, W, b).mul(R).sum())([x]);
      const dy = relDiff(frozenLinear(x, W, b), plain(x, W, b)),
        ddx = relDiff(dx, dxRef);
      console.log(`frozenLinear: max rel diff y ${dy.toExponential(2)}, dx ${ddx.toExponential(2)} (tol ${TOL})`);
      expect(Math.max(dy, ddx)).toBeLessThanOrEqual(TOL);
      // W is captured, not an input: asking for its gradient finds no path.
      expect(() => tf.grads((ww: tf.Tensor) => frozenLinear(x, ww as tf.Tensor2D, b).sum())([W])).toThrow(
        /Cannot compute gradient/,
      );
    });
  });

  it.each([{ bias: true }, { bias: false }])('denseLinear (bias $bias): y, dx, dW and db match', ({ bias }) => {
    tf.tidy(() => {
      const x = rand([N, IN], 5) as tf.Tensor2D,
        W = rand([OUT, IN], 6) as tf.Tensor2D;
      const b = bias ? (rand([OUT], 7) as tf.Tensor1D) : null;
      const R = rand([N, OUT], 8);
      const xs = b ? [x, W, b] : [x, W];
      const got = tf.grads((...a: tf.Tensor[]) =>
        denseLinear(a[0] as tf.Tensor2D, a[1] as tf.Tensor2D, (a[2] ?? null) as tf.Tensor1D | null)
          .mul(R)
          .sum(),
      )(xs);
      const want = tf.grads((...a: tf.Tensor[]) =>
        (a[2] ? plain(a[0], a[1], a[2]) : tf.matMul(a[0], a[1], false, true)).mul(R).sum(),
      )(xs);
      want.forEach((g) => expect(g.abs().max().dataSync()[0]).toBeGreaterThan(1e-3));
      const diffs = got.map((g, i) => relDiff(g, want[i]));
      console.log(
        `denseLinear: max rel diff dx, dW${b ? ', db' : ''} ${diffs.map((d) => d.toExponential(2)).join(', ')} (tol ${TOL})`,
      );
      expect(Math.max(...diffs)).toBeLessThanOrEqual(TOL);
    });
  });
});
