/**
 * The decoder's ops between its linear layers (elementwise chains, attention, transposes, residual
 * adds) as custom-gradient ops that save only what their closed-form backward needs and free their
 * gradient once used. Under plain autodiff tfjs's tape keeps every op's inputs (RMSNorm's
 * x, rsqrt and normalised x; SiLU's sigmoid and both products; the raw, scaled and masked
 * attention scores; even each reshape's input, for its shape) until the backward ends — about
 * 70 MiB a layer at batch 16 × 128 tokens for every fine-tuning method alike, which hid S²FT's
 * saving (its linears keep only x[:, J]). Same pattern as crossEntropy in train/loss.ts.
 *
 * A customGrad forward runs in its own tidy with the tape off, so its temporaries die on return;
 * only `save`d tensors live on to the backward. Every backward runs through `releasing`: see there.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Runs a custom op's backward `body` in a tidy, then frees the op's incoming gradient `dy` and its
 * saved tensors. tfjs's backprop (tape.ts backpropagateGradients) frees neither: every node's dy
 * and the tape's saved clones (real copies on wasm) live until the whole backward ends, so at the
 * end of the backward a step holds a gradient for every activation besides the activations. Each
 * op of the training path releasing its own once used leaves only the gradients still to be
 * consumed. Safe because the tape is walked in reverse order: a node's dy is complete (all
 * consumers accumulated) when the node runs, and nothing reads it afterwards; tfjs's own later
 * dispose of these tensors is a no-op. `body` must return new tensors, never dy or a saved one.
 * What stays beyond reach: where a tensor has two consumers (the residual stream, a normed input
 * read by q, k and v), tfjs accumulates dx₁ + dx₂ and keeps the addend dx₂ to the end.
 * Consequence for callers: a dy handed to tf.grads explicitly is freed by the op that produced the
 * output; pass a clone if it is needed afterwards.
 */
export function releasing<T extends tf.TensorContainer>(dy: tf.Tensor, saved: readonly tf.Tensor[], body: () => T): T {
  const grads = tf.tidy(body);
  tf.dispose([dy, ...saved]);
  return grads;
}

/** silu(gate) · up, saving gate and up only.  gate [N, F], up [N, F] → [N, F] */
export function swiglu(gate: tf.Tensor2D, up: tf.Tensor2D): tf.Tensor2D {
  const op = tf.customGrad((g, u, save) => {
    (save as tf.GradSaveFunc)([g as tf.Tensor, u as tf.Tensor]);
    const value = tf.mul(tf.mul(g as tf.Tensor, tf.sigmoid(g as tf.Tensor)), u as tf.Tensor); // [N, F]
    return {
      value,
      // Each [N, F] temporary is freed right after its last use: this backward is the step's
      // peak under every method, and a plain formula keeps nine of them alive at once.
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        releasing(dy, saved, () => {
          const [gs, us] = saved;
          const sig = tf.sigmoid(gs); // σ(g)  [N, F]
          const dUp = tf.tidy(() => tf.mul(dy, tf.mul(gs, sig))); // dy·silu(g)  [N, F]
          // d silu/dg = σ(g)·(1 + g·(1 − σ(g)))
          const oneMinus = tf.sub(1, sig);
          const gTimes = tf.mul(gs, oneMinus);
          tf.dispose([oneMinus, gs]);
          const inner = tf.add(1, gTimes);
          gTimes.dispose();
          const dsilu = tf.mul(sig, inner); // [N, F]
          tf.dispose([inner, sig]);
          const dyUp = tf.mul(dy, us);
          const dGate = tf.mul(dyUp, dsilu); // [N, F]
          return [dGate, dUp]; // d gate, d up
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
    const xs = xIn as tf.Tensor,
      w = wIn as tf.Tensor1D;
    const r = tf.rsqrt(tf.add(tf.mean(tf.square(xs), -1, true), eps)); // [..., 1]
    (save as tf.GradSaveFunc)([xs, r, w]);
    return {
      value: tf.mul(tf.mul(xs, r), w), // [..., D]
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        releasing(dy, saved, () => {
          const [xt, rt, wt] = saved;
          const g = tf.mul(dy, wt); // [..., D]
          const meanXg = tf.mean(tf.mul(xt, g), -1, true); // [..., 1]
          const dx = tf.sub(tf.mul(g, rt), tf.mul(xt, tf.mul(tf.pow(rt, 3), meanXg))); // [..., D]
          const dw = tf.sum(tf.mul(dy, tf.mul(xt, rt)).reshape([-1, D]), 0); // [D]
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
    gradFunc: (dy: tf.Tensor) => releasing(dy, [], () => tf.reshape(dy, inShape)),
  }));
  return op(x) as tf.Tensor<R>;
}

/** A transpose whose backward releases its gradient (autodiff's Transpose keeps dy to the end). */
export function transpose<R extends tf.Rank>(x: tf.Tensor, perm: number[]): tf.Tensor<R> {
  const inverse = perm.map((_, i) => perm.indexOf(i));
  const op = tf.customGrad((xIn) => ({
    value: tf.transpose(xIn as tf.Tensor, perm),
    gradFunc: (dy: tf.Tensor) => releasing(dy, [], () => tf.transpose(dy, inverse)),
  }));
  return op(x) as tf.Tensor<R>;
}

/** a + b of one shape (the residual stream), releasing its gradient once both branches have a handle on it. */
export function residualAdd<R extends tf.Rank>(a: tf.Tensor<R>, b: tf.Tensor<R>): tf.Tensor<R> {
  const op = tf.customGrad((aIn, bIn) => ({
    value: tf.add(aIn as tf.Tensor, bIn as tf.Tensor),
    // Two handles on dy's buffer (clones share it): the buffer is freed when both consumers are done.
    gradFunc: (dy: tf.Tensor) => releasing(dy, [], () => [tf.clone(dy), tf.clone(dy)]),
  }));
  return op(a, b) as tf.Tensor<R>;
}

/**
 * Grouped-query attention softmax(cap(q kᵀ · scale) + mask) v as one op that saves q, k, v and the
 * mask and recomputes the probabilities in its backward, as FlashAttention does: autodiff would keep
 * the [B, Hkv, R·T, S] scores and probabilities of every layer (4 MiB a layer at 16 × 128 tokens,
 * for every method alike) for one extra q kᵀ and softmax per layer. cap(s) = c·tanh(s / c) with
 * gemma3_text's attn_logit_softcapping c, else the identity. Backward, with p recomputed:
 *   dv = pᵀ dy,  dp = dy vᵀ,  ds = scale · cap′ ⊙ p ⊙ (dp − Σ_last dp ⊙ p),  dq = ds k,  dk = dsᵀ q,
 * where cap′ = 1 − tanh²(s / c).
 * q [B, Hkv, R·T, hd] (query head h = g·R + r in group g, rows r·T + t), k, v [B, Hkv, S, hd],
 * mask [T, S] (additive, −∞ where hidden; a constant, zero gradient) → [B, Hkv, R·T, hd]
 */
export function groupedAttention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  mask: tf.Tensor2D,
  R: number,
  scale: number,
  softcap: number | null = null,
): tf.Tensor4D {
  const [B, Hkv, RT] = q.shape;
  const [T, S] = mask.shape;
  /** tanh(q kᵀ · scale / c) when soft-capped, else null.  → [B, Hkv, R, T, S] */
  const capTanh = (qq: tf.Tensor, kk: tf.Tensor): tf.Tensor | null =>
    softcap === null
      ? null
      : tf.tidy(() => tf.tanh(tf.mul(tf.matMul(qq, kk, false, true).reshape([B, Hkv, R, T, S]), scale / softcap)));
  /** softmax(cap(q kᵀ · scale) + mask), each [.., R·T, S] temporary freed once used.  → [B, Hkv, R·T, S] */
  const probabilities = (qq: tf.Tensor, kk: tf.Tensor, m: tf.Tensor): tf.Tensor4D =>
    tf.tidy(() => {
      const t = capTanh(qq, kk);
      let scaled: tf.Tensor; // mask broadcasts over [B, Hkv, R]
      if (t !== null && softcap !== null) scaled = tf.mul(t, softcap);
      else {
        const scores = tf.matMul(qq, kk, false, true); // [B, Hkv, R·T, S]
        scaled = tf.mul(scores.reshape([B, Hkv, R, T, S]), scale);
        scores.dispose();
      }
      const masked = tf.add(scaled, m);
      scaled.dispose();
      return tf.softmax(masked, -1).reshape([B, Hkv, RT, S]) as tf.Tensor4D;
    });
  const op = tf.customGrad((qIn, kIn, vIn, mIn, save) => {
    (save as tf.GradSaveFunc)([qIn as tf.Tensor, kIn as tf.Tensor, vIn as tf.Tensor, mIn as tf.Tensor]);
    return {
      value: tf.tidy(() =>
        tf.matMul(probabilities(qIn as tf.Tensor, kIn as tf.Tensor, mIn as tf.Tensor), vIn as tf.Tensor),
      ), // [B, Hkv, R·T, hd]
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        releasing(dy, saved, () => {
          const [qs, ks, vs, ms] = saved;
          const p = probabilities(qs, ks, ms); // [B, Hkv, R·T, S]
          const dv = tf.matMul(p, dy, true, false); // [B, Hkv, S, hd]
          const dp = tf.matMul(dy, vs, false, true); // [B, Hkv, R·T, S]
          const dpp = tf.mul(dp, p);
          dp.dispose();
          const pInner = tf.mul(p, tf.sum(dpp, -1, true)); // p · Σ dp ⊙ p
          p.dispose();
          let diff = tf.sub(dpp, pInner);
          tf.dispose([dpp, pInner]);
          const t = capTanh(qs, ks);
          if (t !== null) {
            const capped = tf.mul(diff.reshape([B, Hkv, R, T, S]), tf.sub(1, tf.square(t))).reshape([B, Hkv, RT, S]);
            tf.dispose([diff, t]);
            diff = capped;
          }
          const ds = tf.mul(diff, scale); // [B, Hkv, R·T, S]
          diff.dispose();
          return [tf.matMul(ds, ks), tf.matMul(ds, qs, true, false), dv, tf.zerosLike(ms)]; // dq, dk, dv, d mask
        }),
    };
  });
  return op(q, k, v, mask) as tf.Tensor4D;
}
