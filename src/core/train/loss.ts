/**
 * Mean next-token cross-entropy over the positions that count (label ≠ IGNORE_INDEX).
 * Labels are already shifted: labels[b, t] is the target for logits[b, t].
 */
import * as tf from '@tensorflow/tfjs';
import { IGNORE_INDEX } from './batch';

export function crossEntropy(logits: tf.Tensor3D, labels: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const [B, T, V] = logits.shape;
    const flat = logits.reshape([B * T, V]);                       // [N, V]
    const target = labels.reshape([B * T]);                        // [N]
    const mask = target.notEqual(IGNORE_INDEX).toFloat();          // [N]
    const safeTarget = target.maximum(0).toInt();                  // [N] (ignored rows point at 0)
    const logProbs = tf.logSoftmax(flat);                          // [N, V]
    const picked = tf.mul(logProbs, tf.oneHot(safeTarget, V)).sum(1); // [N]
    const count = mask.sum().maximum(1);
    return picked.mul(mask).sum().div(count).neg() as tf.Scalar;
  });
}

/** Shift token ids into next-token labels: labels[t] = ids[t+1], last position ignored. */
export function nextTokenLabels(ids: ArrayLike<number>, lossMask?: ArrayLike<boolean>): Int32Array {
  const labels = new Int32Array(ids.length).fill(IGNORE_INDEX);
  for (let t = 0; t + 1 < ids.length; t++) {
    if (!lossMask || lossMask[t + 1]) labels[t] = ids[t + 1];
  }
  return labels;
}
