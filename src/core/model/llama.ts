/**
 * The LLaMA-family forward pass (llama, mistral, qwen2, SmolLM), numerically as HuggingFace
 * LlamaForCausalLM computes it. Read top to bottom:
 *
 *   embed → L × [ x + attention(rmsNorm(x)) ; x + mlp(rmsNorm(x)) ] → rmsNorm → lm_head
 *
 * Every linear layer of a decoder block goes through `options.linear`, so that a fine-tuning
 * method (S²FT's partial-backprop linear, LoRA, full FT) can replace it. The lm_head and the
 * embedding are not adapted and use plain matmul / gather.
 *
 * Shapes: B batch, T new positions, S = past + T attended positions, D hidden, H query heads,
 * Hkv key/value heads, R = H / Hkv query heads per kv head, hd head dim, F intermediate, V vocab.
 */
import * as tf from '@tensorflow/tfjs';
import type { KVCache } from './kvcache';
import { applyRope, ropeInvFreq, ropeTables } from './rope';
import type { LayerWeights, LinearFn, LlamaModel, LlamaWeights, ModelConfig, ModuleName } from './types';

export interface ForwardOptions {
  /** Replaces every decoder linear (q, k, v, o, gate, up, down). Default: x Wᵀ + b. */
  linear?: LinearFn;
  /** Append this call's keys/values to the cache; positions start at the cache's length. */
  cache?: KVCache;
  /** Compute logits only for the last position ([B, 1, V]); generation needs no more. */
  lastPositionOnly?: boolean;
}

/** The plain linear layer: y = x Wᵀ (+ b).  x [N, in], W [out, in], b [out] → [N, out] */
export const defaultLinear: LinearFn = (x, weight, bias) => {
  const y: tf.Tensor2D = tf.matMul(x, weight, false, true);         // [N, out]
  return bias ? tf.add(y, bias) : y;                               // [N, out]
};

/** Logits for every position:  inputIds [B, T] int32  →  [B, T, V] (or [B, 1, V]). */
export function forward(model: LlamaModel, inputIds: tf.Tensor2D, options: ForwardOptions = {}): tf.Tensor3D {
  return tf.tidy(() => {
    const h = forwardHidden(model, inputIds, options);              // [B, T, D]
    const [B, T, D] = h.shape;
    const last = options.lastPositionOnly ? h.slice([0, T - 1, 0], [B, 1, D]) : h; // [B, T', D]
    const T2 = last.shape[1];
    const logits = lmHead(model.weights, last.reshape([B * T2, D])); // [B*T', V]
    return logits.reshape([B, T2, logits.shape[1]]);               // [B, T', V]
  });
}

/** Final hidden states after the last RMSNorm:  inputIds [B, T]  →  [B, T, D]. */
export function forwardHidden(model: LlamaModel, inputIds: tf.Tensor2D, options: ForwardOptions = {}): tf.Tensor3D {
  return tf.tidy(() => {
    const { config, weights } = model;
    const eps = config.rmsNormEps;
    const T = inputIds.shape[1];
    const past = options.cache?.length ?? 0;                        // positions already cached
    const { cos, sin } = ropeTables(ropeInvFreq(config), past, T);  // [T, hd] each
    const mask = causalMask(past, T);                               // [T, S]
    const linear = options.linear ?? defaultLinear;
    let x = embed(weights.embedTokens, inputIds);                   // [B, T, D]
    weights.layers.forEach((w, layer) => {
      const ctx: LayerContext = { layer, linear, cos, sin, mask, cache: options.cache };
      x = tf.add(x, attention(config, w, rmsNorm(x, w.inputLayernorm, eps), ctx));       // [B, T, D]
      x = tf.add(x, mlp(w, rmsNorm(x, w.postAttentionLayernorm, eps), ctx));             // [B, T, D]
    });
    return rmsNorm(x, weights.norm, eps);                           // [B, T, D]
  });
}

/** Token embedding looked up across row shards: shard s holds rows [o_s, o_s + n_s). */
export function embed(shards: tf.Tensor2D[], inputIds: tf.Tensor2D): tf.Tensor3D {
  const [B, T] = inputIds.shape;
  const D = shards[0].shape[1];
  const ids = inputIds.reshape([B * T]).toInt();                    // [N]
  if (shards.length === 1) return tf.gather(shards[0], ids).reshape([B, T, D]);
  let out: tf.Tensor2D | null = null;
  let offset = 0;
  for (const shard of shards) {
    const n = shard.shape[0];
    const local = tf.sub(ids, tf.scalar(offset, 'int32'));          // [N] row index inside this shard
    const inShard = tf.logicalAnd(local.greaterEqual(0), local.less(n)).toFloat().expandDims(1); // [N, 1]
    // Clamp with int32 min/max (clipByValue is float-only on some backends) so every gather is in range.
    const safe = tf.maximum(tf.minimum(local, tf.scalar(n - 1, 'int32')), tf.scalar(0, 'int32')); // [N]
    const rows = tf.gather(shard, safe).mul(inShard) as tf.Tensor2D; // [N, D]
    out = out ? tf.add(out, rows) : rows;                           // [N, D]
    offset += n;
  }
  return (out as tf.Tensor2D).reshape([B, T, D]);
}

/** Output projection, tied to the embedding when lmHead is null: h [N, D] → logits [N, V]. */
export function lmHead(weights: LlamaWeights, h: tf.Tensor2D): tf.Tensor2D {
  const shards = weights.lmHead ?? weights.embedTokens;             // [V_s, D] each
  const parts = shards.map((w) => tf.matMul(h, w, false, true) as tf.Tensor2D); // [N, V_s] each
  return parts.length === 1 ? parts[0] : tf.concat2d(parts, 1);     // [N, V]
}

/** RMSNorm: x · rsqrt(mean(x²) + eps) · w, over the last axis (float32 throughout). */
export function rmsNorm<R extends tf.Rank>(x: tf.Tensor<R>, weight: tf.Tensor1D, eps: number): tf.Tensor<R> {
  const variance = tf.mean(tf.square(x), -1, true);                 // [..., 1]
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(variance, eps))), weight); // [..., D]
}

/** Additive causal mask: query t (absolute past + t) sees keys s ≤ past + t.  [T, S] */
function causalMask(past: number, T: number): tf.Tensor2D {
  const S = past + T;
  const band = new Float32Array(T * S);
  for (let t = 0; t < T; t++) for (let s = past + t + 1; s < S; s++) band[t * S + s] = -Infinity;
  return tf.tensor2d(band, [T, S]);
}

/** What every layer's attention and MLP need besides their weights. */
interface LayerContext {
  layer: number;
  linear: LinearFn;
  cos: tf.Tensor2D;                 // [T, hd]
  sin: tf.Tensor2D;                 // [T, hd]
  mask: tf.Tensor2D;                // [T, S]
  cache: KVCache | undefined;
}

/** One linear module of a layer through the (possibly overridden) linear:  x [N, in] → [N, out]. */
function project(w: LayerWeights, module: ModuleName, x: tf.Tensor2D, ctx: LayerContext): tf.Tensor2D {
  return ctx.linear(x, w.linear[module], w.bias[module] ?? null, { layer: ctx.layer, module });
}

/** Grouped-query causal self-attention: query head h reads kv head floor(h / R). */
function attention(config: ModelConfig, w: LayerWeights, x: tf.Tensor3D, ctx: LayerContext): tf.Tensor3D {
  const [B, T, D] = x.shape;
  const { numHeads: H, numKvHeads: Hkv, headDim: hd } = config;
  const R = H / Hkv;
  const x2 = x.reshape([B * T, D]) as tf.Tensor2D;                 // [N, D]
  const q = project(w, 'q_proj', x2, ctx).reshape([B, T, H, hd]).transpose([0, 2, 1, 3]) as tf.Tensor4D;   // [B, H, T, hd]
  let k = project(w, 'k_proj', x2, ctx).reshape([B, T, Hkv, hd]).transpose([0, 2, 1, 3]) as tf.Tensor4D; // [B, Hkv, T, hd]
  let v = project(w, 'v_proj', x2, ctx).reshape([B, T, Hkv, hd]).transpose([0, 2, 1, 3]) as tf.Tensor4D; // [B, Hkv, T, hd]
  const qr = applyRope(q, ctx.cos, ctx.sin);                        // [B, H, T, hd]
  k = applyRope(k, ctx.cos, ctx.sin);                               // [B, Hkv, T, hd]
  if (ctx.cache) ({ k, v } = ctx.cache.append(ctx.layer, k, v));   // [B, Hkv, S, hd]
  const S = k.shape[2];
  // Query heads h = g·R + r share kv head g: group them instead of repeating k and v R times.
  const qg = qr.reshape([B, Hkv, R * T, hd]);                       // [B, Hkv, R*T, hd]
  const scores = tf.matMul(qg, k, false, true).mul(1 / Math.sqrt(hd)); // [B, Hkv, R*T, S]
  const masked = scores.reshape([B, Hkv, R, T, S]).add(ctx.mask);   // [B, Hkv, R, T, S]
  const probs = tf.softmax(masked, -1).reshape([B, Hkv, R * T, S]); // [B, Hkv, R*T, S]
  const out = tf.matMul(probs, v);                                  // [B, Hkv, R*T, hd]
  const heads = out.reshape([B, H, T, hd]).transpose([0, 2, 1, 3]); // [B, T, H, hd]
  const merged = heads.reshape([B * T, H * hd]) as tf.Tensor2D;    // [N, H*hd]
  return project(w, 'o_proj', merged, ctx).reshape([B, T, D]);     // [B, T, D]
}

/** SwiGLU feed-forward: down(silu(gate(x)) · up(x)). */
function mlp(w: LayerWeights, x: tf.Tensor3D, ctx: LayerContext): tf.Tensor3D {
  const [B, T, D] = x.shape;
  const x2 = x.reshape([B * T, D]) as tf.Tensor2D;                 // [N, D]
  const gate = project(w, 'gate_proj', x2, ctx);                    // [N, F]
  const up = project(w, 'up_proj', x2, ctx);                        // [N, F]
  const act = tf.mul(tf.mul(gate, tf.sigmoid(gate)), up) as tf.Tensor2D; // [N, F]  silu(g)·u
  return project(w, 'down_proj', act, ctx).reshape([B, T, D]);     // [B, T, D]
}
