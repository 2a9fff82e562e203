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
import { releasing, reshape } from '../model/fusedOps';
import { defaultLinear, forwardHidden, logitShards } from '../model/llama';
import type { LinearFn, LlamaModel } from '../model/types';
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

/**
 * crossEntropy over logits split by vocabulary rows, never joined: parts[s] [N, V_s] holds the
 * logits of tokens [o_s, o_s + V_s) (the lm_head's row shards, llama.ts lmHeadShards). No [N, V]
 * tensor exists, so each buffer stays within the GPU limit the shards were cut to. With
 * lse = log Σ_s Σ_v exp(parts[s]) the loss is Σ_n (lse[n] − logit[n, target[n]]) · mask[n] / count
 * and shard s's gradient is (exp(parts[s] − lse) − onehot_s(target − o_s)) · mask / count · dy:
 * the same numbers crossEntropy gives on concat(parts, 1), checked in lossShards.test.ts.
 * As in crossEntropy, each shard takes two passes, its softmax q_s and its argmax, and
 * lse_s = log Σ_v exp(parts[s]) = m − log q_s[m] at the row's largest logit m; the backward reads
 * exp(parts[s] − lse) = q_s · exp(lse_s − lse) off the saved softmax (exactly q_s with one shard),
 * one pass where exp(z − lse) took two of tfjs-wasm's slow Exp (bench/PROFILE.md §5.5).
 * labels [B, T] (already shifted, IGNORE_INDEX where not counted).
 */
export function crossEntropyShards(parts: tf.Tensor2D[], labels: tf.Tensor2D): tf.Scalar {
  const N = labels.size;
  const S = parts.length;
  const widths = parts.map((p) => p.shape[1]); // V_s each
  const offsets = widths.map((_, s) => widths.slice(0, s).reduce((a, b) => a + b, 0)); // o_s each
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const zs = args.slice(0, S) as tf.Tensor2D[]; // [N, V_s] each
    const save = args[S] as tf.GradSaveFunc;
    const target = labels.reshape([N]); // [N]
    const mask = target.notEqual(IGNORE_INDEX).toFloat(); // [N]
    const safeTarget = target.maximum(0).toInt(); // [N] (ignored rows point at 0)
    const weight = tf.div(mask, mask.sum().maximum(1)); // [N] mask / count
    const rows = tf.range(0, N, 1, 'int32'); // [N]
    const probs = zs.map((z) => tf.softmax(z)); // q_s [N, V_s] each
    const shardLse = zs.map((z, s) => {
      // [N] flat index of the row's largest logit
      const top = tf.add(tf.mul(rows, tf.scalar(widths[s], 'int32')), tf.argMax(z, 1));
      const largest = tf.gather(z.reshape([N * widths[s]]), top); // [N] m
      return tf.sub(largest, tf.log(tf.gather(probs[s].reshape([N * widths[s]]), top))); // [N] lse_s
    });
    const lse = S === 1 ? shardLse[0] : tf.logSumExp(tf.stack(shardLse, 1), 1); // [N]
    // The target's logit: gathered from the shard that holds it, zero from the others.
    const picked = zs
      .map((z, s) => {
        const local = tf.sub(safeTarget, tf.scalar(offsets[s], 'int32')); // [N] index inside shard s
        const inShard = tf.logicalAnd(local.greaterEqual(0), local.less(widths[s])).toFloat(); // [N]
        const safe = tf.maximum(tf.minimum(local, tf.scalar(widths[s] - 1, 'int32')), tf.scalar(0, 'int32')); // [N]
        const flatIndex = tf.add(tf.mul(rows, tf.scalar(widths[s], 'int32')), safe); // [N]
        return tf.mul(tf.gather(z.reshape([N * widths[s]]), flatIndex), inShard); // [N]
      })
      .reduce((a, b) => tf.add(a, b)); // [N]
    const loss = tf.sum(tf.mul(tf.sub(lse, picked), weight)) as tf.Scalar;
    // exp(lse_s − lse) per shard: 1 with one shard.
    const shares = shardLse.map((l) => (S === 1 ? null : tf.exp(tf.sub(l, lse)))); // [N] each
    save([safeTarget, weight, ...shares.filter((x) => x !== null), ...probs]);
    return {
      value: loss,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [tgt, w] = saved as tf.Tensor1D[];
        const savedShares = saved.slice(2, S === 1 ? 2 : 2 + S) as tf.Tensor1D[]; // [N] each, none with one shard
        const qs = saved.slice(S === 1 ? 2 : 2 + S) as tf.Tensor2D[]; // [N, V_s] each
        // One [N, V_s] step per shard with its softmax freed once read: a shard's gradient costs
        // two [N, V_s] buffers at once.
        return releasing(dy, saved, () => {
          const scale = tf.mul(w, dy); // [N]
          return qs.map((q, s) => {
            const local = tf.sub(tgt, tf.scalar(offsets[s], 'int32')); // [N]
            const inShard = tf.logicalAnd(local.greaterEqual(0), local.less(widths[s])).toFloat(); // [N]
            const safe = tf.maximum(tf.minimum(local, tf.scalar(widths[s] - 1, 'int32')), tf.scalar(0, 'int32')); // [N]
            // [N] exp(lse_s − lse) · mask / count · dy
            const rowScale = S === 1 ? scale : tf.mul(scale, savedShares[s]);
            const scaled = tf.mul(q, rowScale.expandDims(1)) as tf.Tensor2D; // [N, V_s]  p · mask / count · dy
            q.dispose();
            // Minus scale at each row's target when it lies in this shard (a sparse one-hot).
            return minusAtTargets(scaled, safe as tf.Tensor1D, tf.mul(scale, inShard) as tf.Tensor1D); // [N, V_s]
          });
        });
      },
    };
  });
  return op(...parts) as tf.Scalar;
}

/**
 * The training loss of a batch, with the logits kept in the lm_head's row shards (no [B·T, V]
 * tensor):  ids [B, T] int32, labels [B, T] → mean cross-entropy (scalar).
 */
export function causalLmLoss(model: LlamaModel, ids: tf.Tensor2D, labels: tf.Tensor2D, linear?: LinearFn): tf.Scalar {
  return tf.tidy(() => {
    const h = forwardHidden(model, ids, { linear }); // [B, T, D]
    const [B, T, D] = h.shape;
    const flat = reshape<tf.Rank.R2>(h, [B * T, D]); // [N, D]
    const parts = logitShards(model, flat, linear ?? defaultLinear); // [N, V_s] each
    return crossEntropyShards(parts, labels); // scalar
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

/**
 * g − a[n] at column t[n] of each row n (a sparse one-hot), with g freed.
 * g [N, C], t [N] int32, a [N] → [N, C]
 * tensorScatterUpdate writes only the N entries on cpu, wasm and WebGPU. WebGL's visits every
 * update for every output element, O(N²·C), 2–2.5× a whole training step at the embedded model's
 * 16 × 32 tokens (bench/PROFILE.md §1); there a one-hot product is subtracted instead, one pass
 * each, with two more [N, C] buffers in flight.
 */
export function minusAtTargets(
  g: tf.Tensor2D,
  t: tf.Tensor1D,
  a: tf.Tensor1D,
  how: 'scatter' | 'oneHot' = tf.getBackend() === 'webgl' ? 'oneHot' : 'scatter',
): tf.Tensor2D {
  const [N, C] = g.shape;
  if (how === 'oneHot') {
    const minus = tf.tidy(() => tf.mul(tf.oneHot(t, C, 1, 0, 'float32'), a.expandDims(1))); // [N, C]
    const out = tf.sub(g, minus) as tf.Tensor2D; // [N, C]
    tf.dispose([minus, g]);
    return out;
  }
  const out = tf.tidy(() => {
    const at = tf.stack([tf.range(0, N, 1, 'int32'), t], 1); // [N, 2]
    const update = tf.sub(tf.gatherND(g, at), a); // [N]
    return tf.tensorScatterUpdate(g, at, update) as tf.Tensor2D; // [N, C]
  });
  g.dispose();
  return out;
}
