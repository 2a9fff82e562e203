/**
 * The elementwise chains of the decoder as single custom-gradient ops that save only what their
 * closed-form backward needs. Under plain autodiff tfjs's tape keeps every op's inputs (RMSNorm's
 * x, rsqrt and normalised x; SiLU's sigmoid and both products; the raw, scaled and masked
 * attention scores; even each reshape's input, for its shape) until the backward ends — about
 * 70 MiB a layer at batch 16 × 128 tokens for every fine-tuning method alike, which hid S²FT's
 * saving (its linears keep only x[:, J]). Same pattern as crossEntropy in train/loss.ts.
 *
 * A customGrad forward runs in its own tidy with the tape off, so its temporaries die on return;
 * only `save`d tensors live on to the backward. Backward bodies run in a tidy for the same reason,
 * and dispose the saved tensors once used: they are the tape node's own clones, which tfjs would
 * otherwise keep until the whole backward ends (its later dispose of them is a no-op).
 */
import * as tf from '@tensorflow/tfjs';

/** silu(gate) · up, saving gate and up only.  gate [N, F], up [N, F] → [N, F] */
export function swiglu(gate: tf.Tensor2D, up: tf.Tensor2D): tf.Tensor2D {
  const op = tf.customGrad((g, u, save) => {
    (save as tf.GradSaveFunc)([g as tf.Tensor, u as tf.Tensor]);
    const value = tf.mul(tf.mul(g as tf.Tensor, tf.sigmoid(g as tf.Tensor)), u as tf.Tensor); // [N, F]
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.tidy(() => {
        const [gs, us] = saved;
        const sig = tf.sigmoid(gs);                                   // [N, F]
        const silu = tf.mul(gs, sig);                                 // [N, F]
        // d silu/dg = σ(g)·(1 + g·(1 − σ(g)))
        const dsilu = tf.mul(sig, tf.add(1, tf.mul(gs, tf.sub(1, sig)))); // [N, F]
        const grads = [tf.mul(tf.mul(dy, us), dsilu), tf.mul(dy, silu)]; // d gate, d up  [N, F] each
        tf.dispose(saved);
        return grads;
      }),
    };
  });
  return op(gate, up) as tf.Tensor2D;
}

/**
 * RMSNorm x · r · w with r = rsqrt(mean(x²) + eps) over the last axis, saving x and r only.
 * Backward with g = dy·w:  dx = r·g − x·r³·mean(x·g),  dw = Σ_rows dy·x·r.
 * dw is always returned (a [D] sum); tfjs keeps it only where w is being differentiated.
 */
export function rmsNorm<R extends tf.Rank>(x: tf.Tensor<R>, weight: tf.Tensor1D, eps: number): tf.Tensor<R> {
  const D = x.shape[x.rank - 1];
  const op = tf.customGrad((xIn, wIn, save) => {
    const xs = xIn as tf.Tensor, w = wIn as tf.Tensor1D;
    const r = tf.rsqrt(tf.add(tf.mean(tf.square(xs), -1, true), eps)); // [..., 1]
    (save as tf.GradSaveFunc)([xs, r, w]);
    return {
      value: tf.mul(tf.mul(xs, r), w),                                 // [..., D]
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.tidy(() => {
        const [xt, rt, wt] = saved;
        const g = tf.mul(dy, wt);                                      // [..., D]
        const meanXg = tf.mean(tf.mul(xt, g), -1, true);               // [..., 1]
        const dx = tf.sub(tf.mul(g, rt), tf.mul(xt, tf.mul(tf.pow(rt, 3), meanXg))); // [..., D]
        const dw = tf.sum(tf.mul(dy, tf.mul(xt, rt)).reshape([-1, D]), 0); // [D]
        tf.dispose(saved);
        return [dx, dw];
      }),
    };
  });
  return op(x, weight) as tf.Tensor<R>;
}

/** A reshape that saves nothing (tfjs's Reshape keeps its input alive just for its shape). */
export function reshape<R extends tf.Rank>(x: tf.Tensor, shape: number[]): tf.Tensor<R> {
  const inShape = x.shape;
  const op = tf.customGrad((xIn) => ({
    value: tf.reshape(xIn as tf.Tensor, shape),
    gradFunc: (dy: tf.Tensor) => tf.reshape(dy, inShape),
  }));
  return op(x) as tf.Tensor<R>;
}

/**
 * softmax(scores · scale + mask) over the last axis, saving only the probabilities
 * (autodiff would keep the raw, scaled and masked scores too).  Backward:
 *   d scores = scale · p · (dy − Σ_last dy·p).
 * scores [..., Tq, S], mask [Tq, S] (additive, −∞ where hidden; a constant, no gradient).
 */
export function scaledMaskedSoftmax<R extends tf.Rank>(scores: tf.Tensor<R>, scale: number, mask: tf.Tensor2D): tf.Tensor<R> {
  const op = tf.customGrad((sIn, save) => {
    const probs = tf.softmax(tf.add(tf.mul(sIn as tf.Tensor, scale), mask), -1); // [..., Tq, S]
    (save as tf.GradSaveFunc)([probs]);
    return {
      value: probs,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.tidy(() => {
        const [p] = saved;
        const inner = tf.sum(tf.mul(dy, p), -1, true);                 // [..., Tq, 1]
        const dScores = tf.mul(tf.mul(p, tf.sub(dy, inner)), scale);   // [..., Tq, S]
        tf.dispose(saved);
        return dScores;
      }),
    };
  });
  return op(scores) as tf.Tensor<R>;
}
