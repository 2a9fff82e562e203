/**
 * Mean next-token cross-entropy over the positions that count (label ≠ IGNORE_INDEX).
 * Labels are already shifted: labels[b, t] is the target for logits[b, t].
 *
 * One custom-gradient op rather than logSoftmax · oneHot under autodiff: plain autodiff keeps
 * about 15 [N, V] tensors alive until the backward ends (the log-probs, the one-hot, casts, the
 * products and every intermediate gradient), which at batch 16 × 128 tokens and a 1k vocabulary
 * is 120 MiB; this op keeps one, the softmax, and its gradient is the closed form
 *   d logits[n] = (softmax[n] − onehot(target[n])) · mask[n] / count · dy.
 * Over a 49k vocabulary these [N, V] passes are the step's largest cost after the matmuls, so
 * the forward takes two of them (bench/PROFILE.md).
 */
import * as tf from '@tensorflow/tfjs';
import { releasing } from '../model/fusedOps';
import { IGNORE_INDEX } from './batch';

export function crossEntropy(logits: tf.Tensor3D, labels: tf.Tensor2D): tf.Scalar {
  const [B, T, V] = logits.shape;
  const N = B * T;
  const op = tf.customGrad((z, save) => {
    const flat = (z as tf.Tensor3D).reshape([N, V]); // [N, V]
    const target = labels.reshape([N]); // [N]
    const mask = target.notEqual(IGNORE_INDEX).toFloat(); // [N]
    const safeTarget = target.maximum(0).toInt(); // [N] (ignored rows point at 0)
    const weight = tf.div(mask, mask.sum().maximum(1)); // [N] mask / count
    // Two passes over [N, V], both single kernels on every backend: the softmax and the argmax.
    // log Σ exp z is read off the softmax at the row's largest logit m, where p = e^0 / Σ e^(z−m)
    // ≥ 1/V never underflows: lse = m − log p[m]. (logSumExp and then exp(z − lse) take six passes.)
    const probs = tf.softmax(flat); // [N, V]
    const rowStart = tf.mul(tf.range(0, N, 1, 'int32'), tf.scalar(V, 'int32')); // [N] n·V
    const top = tf.add(rowStart, tf.argMax(flat, 1)); // [N] flat index of the row's largest logit
    const flatLogits = flat.reshape([N * V]);
    const largest = tf.gather(flatLogits, top); // [N] m
    const lse = tf.sub(largest, tf.log(tf.gather(probs.reshape([N * V]), top))); // [N]
    const picked = tf.gather(flatLogits, tf.add(rowStart, safeTarget)); // [N] the target's logit
    const loss = tf.sum(tf.mul(tf.sub(lse, picked), weight)) as tf.Scalar;
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
