/**
 * The LLaMA-family forward pass (llama, mistral, qwen2, SmolLM, qwen3, gemma3_text), numerically
 * as HuggingFace's *ForCausalLM computes it. Read top to bottom:
 *
 *   embed → L × [ x + attention(rmsNorm(x)) ; x + mlp(rmsNorm(x)) ] → rmsNorm → lm_head
 *
 * What a family changes (family.ts): q/k normed per head before RoPE, Gemma's sandwich norms
 * around attention and MLP, (1 + w) norms, the scaled embedding, GeGLU, sliding-window layers
 * with their own RoPE base, the attention scale and soft-capping.
 *
 * Every linear layer goes through `options.linear`, so that a fine-tuning method (S²FT's
 * partial-backprop linear, LoRA, full FT) can replace it; lm_head's site is module 'lm_head' at
 * layer L, which no adapter targets (methods run it frozen, full FT trains it). The embedding is
 * a plain gather.
 *
 * Shapes: B batch, T new positions, S = past + T attended positions, D hidden, H query heads,
 * Hkv key/value heads, R = H / Hkv query heads per kv head, hd head dim, F intermediate, V vocab.
 */
import * as tf from '@tensorflow/tfjs';
import { attentionScale, embeddingScale, familyOf, layerType, type FamilySpec } from './family';
import { familyNorm, gegluTanh, scaleBy, softcap } from './familyOps';
import { groupedAttention, reshape, residualAdd, rmsNorm, swiglu, transpose } from './fusedOps';
import type { KVCache } from './kvcache';
import { applyRope, ropeInvFreq, ropeTables } from './rope';
import type { LayerType, LayerWeights, LinearFn, LlamaModel, LlamaWeights, ModelConfig, ModuleName } from './types';

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
  const y: tf.Tensor2D = tf.matMul(x, weight, false, true); // [N, out]
  return bias ? tf.add(y, bias) : y; // [N, out]
};

/** Logits for every position:  inputIds [B, T] int32  →  [B, T, V] (or [B, 1, V]). */
export function forward(model: LlamaModel, inputIds: tf.Tensor2D, options: ForwardOptions = {}): tf.Tensor3D {
  return tf.tidy(() => {
    const { config } = model;
    const h = forwardHidden(model, inputIds, options); // [B, T, D]
    const [B, T, D] = h.shape;
    const last = options.lastPositionOnly ? h.slice([0, T - 1, 0], [B, 1, D]) : h; // [B, T', D]
    const T2 = last.shape[1];
    const linear = options.linear ?? defaultLinear;
    const raw = lmHead(model.weights, reshape<tf.Rank.R2>(last, [B * T2, D]), linear, config.numLayers); // [B*T', V]
    const cap = config.finalLogitSoftcapping;
    const logits = cap === undefined ? raw : softcap(raw, cap); // [B*T', V]
    return reshape<tf.Rank.R3>(logits, [B, T2, logits.shape[1]]); // [B, T', V]
  });
}

/** Final hidden states after the last RMSNorm:  inputIds [B, T]  →  [B, T, D]. */
export function forwardHidden(model: LlamaModel, inputIds: tf.Tensor2D, options: ForwardOptions = {}): tf.Tensor3D {
  return tf.tidy(() => {
    const { config, weights } = model;
    const family = familyOf(config);
    const eps = config.rmsNormEps;
    const norm = <R extends tf.Rank>(x: tf.Tensor<R>, w: tf.Tensor1D) => familyNorm(family, x, w, eps);
    const T = inputIds.shape[1];
    const past = options.cache?.length ?? 0; // positions already cached
    const spans = attentionSpans(config, past, T);
    const linear = options.linear ?? defaultLinear;
    const scale = embeddingScale(config);
    const embedded = embed(weights.embedTokens, inputIds); // [B, T, D]
    let x = scale === null ? embedded : scaleBy(embedded, scale); // [B, T, D]
    weights.layers.forEach((w, layer) => {
      const ctx: LayerContext = {
        layer,
        family,
        linear,
        ...spans.get(layerType(config, layer))!,
        cache: options.cache,
      };
      // One tidy per half-block: without it every intermediate of the whole forward (scores,
      // transposes, products) lives until this function's tidy ends, and the end of the forward
      // becomes the step's peak. The tape keeps what the backward needs regardless.
      const h = x;
      const n = w.norms ?? {};
      // Gemma norms each branch's output too, and its MLP's input with pre_feedforward_layernorm.
      const sandwich = family.sandwichNorms;
      const a = tf.tidy(() => {
        const out = attention(config, w, norm(h, w.inputLayernorm), ctx); // [B, T, D]
        return residualAdd(h, sandwich ? norm(out, w.postAttentionLayernorm) : out);
      });
      x = tf.tidy(() => {
        const inNorm = sandwich ? n.pre_feedforward_layernorm! : w.postAttentionLayernorm;
        const out = mlp(w, norm(a, inNorm), ctx); // [B, T, D]
        return residualAdd(a, sandwich ? norm(out, n.post_feedforward_layernorm!) : out);
      }); // [B, T, D]
    });
    return norm(x, weights.norm); // [B, T, D]
  });
}

/** Token embedding looked up across row shards: shard s holds rows [o_s, o_s + n_s). */
export function embed(shards: tf.Tensor2D[], inputIds: tf.Tensor2D): tf.Tensor3D {
  const [B, T] = inputIds.shape;
  const D = shards[0].shape[1];
  const ids = inputIds.reshape([B * T]).toInt(); // [N]
  if (shards.length === 1) return tf.gather(shards[0], ids).reshape([B, T, D]);
  let out: tf.Tensor2D | null = null;
  let offset = 0;
  for (const shard of shards) {
    const n = shard.shape[0];
    const local = tf.sub(ids, tf.scalar(offset, 'int32')); // [N] row index inside this shard
    const inShard = tf.logicalAnd(local.greaterEqual(0), local.less(n)).toFloat().expandDims(1); // [N, 1]
    // Clamp with int32 min/max (clipByValue is float-only on some backends) so every gather is in range.
    const safe = tf.maximum(tf.minimum(local, tf.scalar(n - 1, 'int32')), tf.scalar(0, 'int32')); // [N]
    const rows = tf.gather(shard, safe).mul(inShard) as tf.Tensor2D; // [N, D]
    out = out ? tf.add(out, rows) : rows; // [N, D]
    offset += n;
  }
  return (out as tf.Tensor2D).reshape([B, T, D]);
}

/**
 * Output projection through `linear` at site (layer, 'lm_head'), tied to the embedding when
 * lmHead is null:  h [N, D] → logits [N, V].
 */
export function lmHead(weights: LlamaWeights, h: tf.Tensor2D, linear: LinearFn, layer: number): tf.Tensor2D {
  const parts = lmHeadShards(weights, h, linear, layer); // [N, V_s] each
  return parts.length === 1 ? parts[0] : tf.concat2d(parts, 1); // [N, V]
}

/**
 * The logits split as the lm_head's row shards are (vocabulary rows [o_s, o_s + V_s) in part s),
 * never joined, so each stays within the GPU buffer the shards were cut to: what training's loss
 * reads (train/loss.ts crossEntropyShards).  h [N, D] → [N, V_s] each.
 */
export function lmHeadShards(weights: LlamaWeights, h: tf.Tensor2D, linear: LinearFn, layer: number): tf.Tensor2D[] {
  const shards = weights.lmHead ?? weights.embedTokens; // [V_s, D] each
  return shards.map((w) => linear(h, w, null, { layer, module: 'lm_head' })); // [N, V_s] each
}

/** RMSNorm: x · rsqrt(mean(x²) + eps) · w, over the last axis (one fused op, see fusedOps.ts). */
export { rmsNorm };

/**
 * Additive causal mask: query t (absolute p = past + t) sees keys s ≤ p, and with a sliding
 * window only p − window < s (HF masking_utils' sliding_window_overlay).  [T, S]
 */
function causalMask(past: number, T: number, window: number | null): tf.Tensor2D {
  const S = past + T;
  const band = new Float32Array(T * S);
  for (let t = 0; t < T; t++)
    for (let s = 0; s < S; s++) {
      const p = past + t;
      if (s > p || (window !== null && s <= p - window)) band[t * S + s] = -Infinity;
    }
  return tf.tensor2d(band, [T, S]);
}

/** RoPE tables and mask of each attention kind the model's layers use. */
interface AttentionSpan {
  cos: tf.Tensor2D; // [T, hd]
  sin: tf.Tensor2D; // [T, hd]
  mask: tf.Tensor2D; // [T, S]
}

function attentionSpans(config: ModelConfig, past: number, T: number): Map<LayerType, AttentionSpan> {
  const spans = new Map<LayerType, AttentionSpan>();
  for (let layer = 0; layer < config.numLayers; layer++) {
    const kind = layerType(config, layer);
    if (spans.has(kind)) continue;
    const window = kind === 'sliding_attention' ? (config.slidingWindow ?? null) : null;
    spans.set(kind, { ...ropeTables(ropeInvFreq(config, kind), past, T), mask: causalMask(past, T, window) });
  }
  return spans;
}

/** What every layer's attention and MLP need besides their weights. */
interface LayerContext extends AttentionSpan {
  layer: number;
  family: FamilySpec;
  linear: LinearFn;
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
  // Shape-only reshapes (fusedOps.reshape) so the tape does not keep x2 alive for its shape:
  // a partial-backprop linear deliberately saves none of it.
  const x2 = reshape<tf.Rank.R2>(x, [B * T, D]); // [N, D]
  // [B, n, T, hd]
  const heads = (y: tf.Tensor2D, n: number) => transpose<tf.Rank.R4>(reshape(y, [B, T, n, hd]), [0, 2, 1, 3]);
  // qwen3 / gemma3_text RMS-norm each query and key head (one [hd] weight for all heads) before RoPE.
  const n = w.norms ?? {};
  const eps = config.rmsNormEps;
  const qkNorm = (y: tf.Tensor2D, weight: tf.Tensor1D | undefined, count: number): tf.Tensor2D =>
    ctx.family.qkNorm
      ? reshape(familyNorm(ctx.family, reshape(y, [B * T, count, hd]), weight!, eps), [B * T, count * hd])
      : y;
  const q = heads(qkNorm(project(w, 'q_proj', x2, ctx), n['self_attn.q_norm'], H), H); // [B, H, T, hd]
  let k = heads(qkNorm(project(w, 'k_proj', x2, ctx), n['self_attn.k_norm'], Hkv), Hkv); // [B, Hkv, T, hd]
  let v = heads(project(w, 'v_proj', x2, ctx), Hkv); // [B, Hkv, T, hd]
  const qr = applyRope(q, ctx.cos, ctx.sin); // [B, H, T, hd]
  k = applyRope(k, ctx.cos, ctx.sin); // [B, Hkv, T, hd]
  if (ctx.cache) ({ k, v } = ctx.cache.append(ctx.layer, k, v)); // [B, Hkv, S, hd]
  // Query heads h = g·R + r share kv head g: group them instead of repeating k and v R times.
  const qg = reshape<tf.Rank.R4>(qr, [B, Hkv, R * T, hd]); // [B, Hkv, R*T, hd]
  // Scores, mask, softmax and the product with v in one op that recomputes the probabilities in its backward.
  const cap = config.attnLogitSoftcapping ?? null;
  const out = groupedAttention(qg, k, v, ctx.mask, R, attentionScale(config), cap); // [B, Hkv, R*T, hd]
  const perPosition = transpose(reshape(out, [B, H, T, hd]), [0, 2, 1, 3]); // [B, T, H, hd]
  const merged = reshape<tf.Rank.R2>(perPosition, [B * T, H * hd]); // [N, H*hd]
  return reshape<tf.Rank.R3>(project(w, 'o_proj', merged, ctx), [B, T, D]); // [B, T, D]
}

/** Gated feed-forward: down(act(gate(x)) · up(x)), SwiGLU or (gemma3_text) GeGLU. */
function mlp(w: LayerWeights, x: tf.Tensor3D, ctx: LayerContext): tf.Tensor3D {
  const [B, T, D] = x.shape;
  const x2 = reshape<tf.Rank.R2>(x, [B * T, D]); // [N, D]  shape-only, as in attention
  const gate = project(w, 'gate_proj', x2, ctx); // [N, F]
  const up = project(w, 'up_proj', x2, ctx); // [N, F]
  const act = ctx.family.activation === 'silu' ? swiglu(gate, up) : gegluTanh(gate, up); // [N, F]  act(g)·u
  return reshape<tf.Rank.R3>(project(w, 'down_proj', act, ctx), [B, T, D]); // [B, T, D]
}
