/**
 * What-if behind bench/PROFILE.md §2.2: peak tensor bytes of the loss's forward + backward on the
 * activation-dominated shape's logits, for the plain-autodiff formulation (logSoftmax · oneHot,
 * as src/core/train/loss.ts computed it before its custom gradient) and for the core's
 * crossEntropy. Checks that the two gradients agree and prints both peaks.
 *   npx tsx bench/experiments/lossMemory.ts [N] [V]
 */
import * as tf from '@tensorflow/tfjs';
import { IGNORE_INDEX } from '../../src/core/train/batch';
import { crossEntropy } from '../../src/core/train/loss';

/** Mean CE over counted rows under plain autodiff.  logits [N, V], labels [N] → scalar */
function autodiffCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const V = logits.shape[1];
    const mask = labels.notEqual(IGNORE_INDEX).toFloat(); // [N]
    const logProbs = tf.logSoftmax(logits); // [N, V]
    const picked = tf.mul(logProbs, tf.oneHot(labels.maximum(0).toInt(), V)).sum(1); // [N]
    return picked.mul(mask).sum().div(mask.sum().maximum(1)).neg() as tf.Scalar;
  });
}

const N = Number(process.argv[2] ?? 2048),
  V = Number(process.argv[3] ?? 512); // batch 16 × 128, the default model's vocabulary
await tf.setBackend('cpu');
const logits = tf.variable(tf.randomNormal([N, V], 0, 1, 'float32', 1)) as tf.Variable<tf.Rank.R2>;
const labels = tf.tensor1d(
  Int32Array.from({ length: N }, (_, i) => (i % 7 === 0 ? IGNORE_INDEX : (i * 31) % V)),
  'int32',
);
const measure = async (name: string, f: () => tf.Scalar): Promise<Float32Array> => {
  const start = tf.memory().numBytes;
  let grad = new Float32Array();
  const info = await tf.profile(async () => {
    const g = tf.variableGrads(f, [logits]);
    grad = Float32Array.from(await g.grads[logits.name].data());
    tf.dispose([g.value, ...Object.values(g.grads)]);
  });
  console.log(
    `${name}: step peak ${((info.peakBytes - start) / 2 ** 20).toFixed(1)} MiB above the logits (one [N, V] tensor = ${((N * V * 4) / 2 ** 20).toFixed(1)} MiB)`,
  );
  return grad;
};
const plain = await measure('logSoftmax · oneHot under autodiff', () => autodiffCrossEntropy(logits, labels));
const core = await measure('core crossEntropy', () =>
  crossEntropy(logits.reshape([1, N, V]) as tf.Tensor3D, labels.reshape([1, N]) as tf.Tensor2D),
);
let diff = 0;
plain.forEach((x, i) => {
  diff = Math.max(diff, Math.abs(x - core[i]));
});
console.log(`max |gradient difference| ${diff.toExponential(2)} (tolerance 1e-6)`);
