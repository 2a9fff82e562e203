/**
 * crossEntropy against a float64 reference: the mean over counted positions of lse(z) − z[target]
 * and its gradient (softmax − onehot) / count, with ignored positions, logit gaps of 200 (where a
 * softmax entry underflows to 0 in float32) and a tie for the largest logit.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { IGNORE_INDEX } from './batch';
import { crossEntropy } from './loss';

const B = 2,
  T = 3,
  V = 7;

function reference(z: number[], labels: number[]): { loss: number; grad: number[] } {
  const counted = labels.filter((l) => l !== IGNORE_INDEX).length;
  let loss = 0;
  const grad = new Array<number>(z.length).fill(0);
  labels.forEach((label, n) => {
    if (label === IGNORE_INDEX) return;
    const row = z.slice(n * V, (n + 1) * V);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    loss += (lse - row[label]) / counted;
    row.forEach((v, j) => {
      grad[n * V + j] = (Math.exp(v - lse) - (j === label ? 1 : 0)) / counted;
    });
  });
  return { loss, grad };
}

describe('crossEntropy', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('matches a float64 reference, loss and gradient, with ignored rows, large gaps and a tie', async () => {
    const z = Array.from({ length: B * T * V }, (_, i) => Math.sin(i * 1.7) * 3);
    z[0 * V + 2] = 150; // row 0: target 5 sits 150+ below the largest logit (its softmax underflows)
    z[1 * V + 4] = 60;
    z[1 * V + 6] = 60; // row 1: a tie for the largest
    z[3 * V + 1] = -200;
    const labels = [5, 6, IGNORE_INDEX, 1, 0, IGNORE_INDEX];
    const want = reference(z, labels);
    const logits = tf.tensor3d(z, [B, T, V]);
    const ids = tf.tensor2d(labels, [B, T], 'int32');
    const { value, grads } = tf.valueAndGrads((x: tf.Tensor) => crossEntropy(x as tf.Tensor3D, ids))([logits]);
    const loss = (await value.data())[0];
    const grad = Array.from(await grads[0].data());
    const lossDiff = Math.abs(loss - want.loss) / Math.abs(want.loss);
    const gradDiff = Math.max(...grad.map((g, i) => Math.abs(g - want.grad[i])));
    console.log(
      `crossEntropy: loss ${loss} vs ${want.loss} (rel diff ${lossDiff.toExponential(2)}), grad max |diff| ${gradDiff.toExponential(2)}`,
    );
    expect(lossDiff).toBeLessThan(1e-6);
    expect(gradDiff).toBeLessThan(1e-6);
    expect(grad.slice(2 * V, 3 * V).every((g) => g === 0)).toBe(true); // an ignored row has no gradient
    tf.dispose([logits, ids, value, ...grads]);
  });
});
