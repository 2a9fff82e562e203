/**
 * Mean next-token cross-entropy over the positions that count (label ≠ IGNORE_INDEX).
 * Labels are already shifted: labels[b, t] is the target for logits[b, t].
 *
 * One custom-gradient op rather than logSoftmax · oneHot under autodiff: plain autodiff keeps
 * about 15 [N, V] tensors alive until the backward ends (the log-probs, the one-hot, casts, the
 * products and every intermediate gradient), which at batch 16 × 128 tokens and a 1k vocabulary
 * is 120 MiB; this op keeps one, the softmax, and its gradient is the closed form
 *   d logits[n] = (softmax[n] − onehot(target[n])) · mask[n] / count · dy.
 */
import * as tf from '@tensorflow/tfjs';
import { releasing } from '../model/fusedOps';
import { IGNORE_INDEX } from './batch';

export function crossEntropy(logits: tf.Tensor3D, labels: tf.Tensor2D): tf.Scalar {
  const [B, T, V] = logits.shape;
  const op = tf.customGrad((z, save) => {
    const flat = (z as tf.Tensor3D).reshape([B * T, V]); // [N, V]
    const target = labels.reshape([B * T]); // [N]
    const mask = target.notEqual(IGNORE_INDEX).toFloat(); // [N]
    const safeTarget = target.maximum(0).toInt(); // [N] (ignored rows point at 0)
    const weight = tf.div(mask, mask.sum().maximum(1)); // [N] mask / count
    const lse = tf.logSumExp(flat, 1); // [N]
    // The target's logit by index into the flat logits (no [N, V] one-hot in the forward).
    const flatIndex = tf.add(tf.mul(tf.range(0, B * T, 1, 'int32'), tf.scalar(V, 'int32')), safeTarget); // [N] n·V + target
    const picked = tf.gather(flat.reshape([B * T * V]), flatIndex); // [N]
    const loss = tf.sum(tf.mul(tf.sub(lse, picked), weight)) as tf.Scalar;
    const shifted = tf.sub(flat, lse.expandDims(1)); // [N, V]
    const probs = tf.exp(shifted); // [N, V]
    shifted.dispose();
    // Saved tensors outlive this tidy; everything else above is freed when it returns.
    (save as tf.GradSaveFunc)([probs, safeTarget, weight]);
    return {
      value: loss,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        releasing(dy, saved, () => {
          const [p, tgt, w] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
          const scale = tf.mul(w, dy).expandDims(1); // [N, 1]
          const oneHot = tf.oneHot(tgt, V); // [N, V]
          const diff = tf.sub(p, oneHot); // [N, V]
          oneHot.dispose();
          return tf.mul(diff, scale).reshape([B, T, V]); // [B, T, V]
        }),
    };
  });
  return op(logits) as tf.Scalar;
}

/** Shift token ids into next-token labels: labels[t] = ids[t+1], last position ignored. */
export function nextTokenLabels(ids: ArrayLike<number>, lossMask?: ArrayLike<boolean>): Int32Array {
  const labels = new Int32Array(ids.length).fill(IGNORE_INDEX);
  for (let t = 0; t + 1 < ids.length; t++) {
    if (!lossMask || lossMask[t + 1]) labels[t] = ids[t + 1];
  }
  return labels;
}
