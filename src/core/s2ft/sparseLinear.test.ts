/**
 * Each partial-backprop pair against plain autodiff of the same function written with plain ops
 * on a full weight tensor; and the memory claim: a frozen chain keeps fewer bytes on the tape.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { frozenLinear } from '../model/linear';
import { columnBlockLinear, makeBlockIndex, rowBlockLinear } from './sparseLinear';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const TOL = 1e-4;
/** max |a − b| / max |b| over all entries. */
function relDiff(a: tf.Tensor, b: tf.Tensor): number {
  const av = a.dataSync(),
    bv = b.dataSync();
  expect(av.length).toBe(bv.length);
  let num = 0,
    den = 0;
  for (let i = 0; i < av.length; i++) {
    num = Math.max(num, Math.abs(av[i] - bv[i]));
    den = Math.max(den, Math.abs(bv[i]));
  }
  return num / den;
}
const rand = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);

const IN = 10,
  OUT = 7;
const J = Int32Array.from([8, 1, 4]); // unsorted on purpose
const K = J.length;

describe('sparseLinear pairs equal plain autodiff', () => {
  // N = 6 rows is below OUT and IN: the small-product form; N = 12 is above both: the effective weight.
  describe.each([
    { N: 6, form: 'small products' },
    { N: 12, form: 'effective weight' },
  ])('through the $form (N = $N)', ({ N }) => {
    it('columnBlockLinear: y, dx and dS match the full weight restricted to columns J', () => {
      const cols = makeBlockIndex(J, IN);
      const S = tf.variable(rand([OUT, K], 5).mul(0.3), true, 'colBlock');
      tf.tidy(() => {
        const x = rand([N, IN], 6) as tf.Tensor2D,
          W = rand([OUT, IN], 7) as tf.Tensor2D,
          b = rand([OUT], 8) as tf.Tensor1D;
        const R = rand([N, OUT], 9);
        // Independent reference: W_eff = W with S added into columns J, built element by element.
        const w = W.arraySync(),
          s = S.arraySync() as number[][];
        for (let o = 0; o < OUT; o++) for (let j = 0; j < K; j++) w[o][J[j]] += s[o][j];
        const Weff = tf.tensor2d(w);
        const [dxRef, dWRef] = tf.grads((xx: tf.Tensor, ww: tf.Tensor) =>
          tf.matMul(xx, ww, false, true).add(b).mul(R).sum(),
        )([x, Weff]);
        const dSRef = tf.gather(dWRef, tf.tensor1d(J, 'int32'), 1); // [OUT, K]
        const [dx, dS] = tf.grads((xx: tf.Tensor, ss: tf.Tensor) =>
          columnBlockLinear(xx as tf.Tensor2D, W, b, ss as tf.Variable, cols)
            .mul(R)
            .sum(),
        )([x, S]);
        const dy = relDiff(columnBlockLinear(x, W, b, S, cols), tf.matMul(x, Weff, false, true).add(b));
        const ddx = relDiff(dx, dxRef),
          ddS = relDiff(dS, dSRef);
        console.log(
          `columnBlockLinear (N = ${N}): max rel diff y ${dy.toExponential(2)}, dx ${ddx.toExponential(2)}, dS ${ddS.toExponential(2)} (tol ${TOL})`,
        );
        expect(Math.max(dy, ddx, ddS)).toBeLessThanOrEqual(TOL);
      });
      S.dispose();
      cols.dispose();
    });

    it('rowBlockLinear: y, dx and dS match the full weight restricted to rows I', () => {
      const I = Int32Array.from([5, 0, 3]);
      const rows = makeBlockIndex(I, OUT);
      const S = tf.variable(rand([I.length, IN], 10).mul(0.3), true, 'rowBlock');
      tf.tidy(() => {
        const x = rand([N, IN], 11) as tf.Tensor2D,
          W = rand([OUT, IN], 12) as tf.Tensor2D;
        const R = rand([N, OUT], 13);
        const w = W.arraySync(),
          s = S.arraySync() as number[][];
        for (let j = 0; j < I.length; j++) for (let i = 0; i < IN; i++) w[I[j]][i] += s[j][i];
        const Weff = tf.tensor2d(w);
        const [dxRef, dWRef] = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.matMul(xx, ww, false, true).mul(R).sum())([
          x,
          Weff,
        ]);
        const dSRef = tf.gather(dWRef, tf.tensor1d(I, 'int32'), 0); // [k, IN]
        const [dx, dS] = tf.grads((xx: tf.Tensor, ss: tf.Tensor) =>
          rowBlockLinear(xx as tf.Tensor2D, W, null, ss as tf.Variable, rows)
            .mul(R)
            .sum(),
        )([x, S]);
        const dy = relDiff(rowBlockLinear(x, W, null, S, rows), tf.matMul(x, Weff, false, true));
        const ddx = relDiff(dx, dxRef),
          ddS = relDiff(dS, dSRef);
        console.log(
          `rowBlockLinear (N = ${N}): max rel diff y ${dy.toExponential(2)}, dx ${ddx.toExponential(2)}, dS ${ddS.toExponential(2)} (tol ${TOL})`,
        );
        expect(Math.max(dy, ddx, ddS)).toBeLessThanOrEqual(TOL);
      });
      S.dispose();
      rows.dispose();
    });
  });
});

describe('memory: what the tape keeps', () => {
  /**
   * A chain of 4 [D, D] linears after one trained column block, each link in its own tidy as a
   * decoder block would be, each output freed by the caller once consumed. Measured at the end of the forward, inside
   * variableGrads, before any
   * gradient is computed: what is still allocated is what the tape keeps for the backward.
   */
  function bytesKeptAfterForward(link: (x: tf.Tensor2D, W: tf.Tensor2D) => tf.Tensor2D): number {
    const D = 64,
      Nrows = 128;
    const Ws = [0, 1, 2, 3].map((i) => rand([D, D], 20 + i) as tf.Tensor2D);
    const x0 = rand([Nrows, D], 30) as tf.Tensor2D;
    const cols = makeBlockIndex(Int32Array.from([0, 1]), D);
    const S = tf.tidy(() => tf.variable(tf.zeros([D, 2]), true, 'memBlock'));
    let kept = 0;
    const { value, grads } = tf.variableGrads(() => {
      let x = tf.tidy(() => columnBlockLinear(x0, Ws[0], null, S, cols)); // [N, D]
      // The caller frees each block's output once the next block has consumed it: tidy cannot,
      // because the output belongs to the enclosing (variableGrads) scope.
      for (const W of Ws) {
        const prev = x;
        x = tf.tidy(() => link(prev, W));
        prev.dispose();
      }
      const before = tf.memory().numBytes;
      const loss = x.square().sum() as tf.Scalar;
      kept = before;
      return loss;
    }, [S]);
    value.dispose();
    Object.values(grads).forEach((g) => g.dispose());
    [...Ws, x0, S].forEach((t) => t.dispose());
    cols.dispose();
    return kept;
  }

  it('a frozenLinear chain keeps fewer bytes than plain matMul', () => {
    const base = tf.memory().numBytes;
    const frozen = bytesKeptAfterForward((x, W) => frozenLinear(x, W, null)) - base;
    const plain = bytesKeptAfterForward((x, W) => tf.matMul(x, W, false, true)) - base;
    console.log(`bytes in use at end of forward: frozenLinear chain ${frozen}, plain matMul chain ${plain}`);
    // Plain matMul keeps each link's input [128, 64] f32 = 32768 bytes alive (4 links); frozen keeps none.
    expect(plain - frozen).toBeGreaterThanOrEqual(4 * 128 * 64 * 4 - 1);
    expect(tf.memory().numBytes).toBe(base);
  });
});
