/**
 * An independent float64 forward pass in plain loops (no tfjs), written from HF's
 * LlamaForCausalLM, Qwen3ForCausalLM and Gemma3ForCausalLM definitions for tests only. It shares
 * no code with llama.ts / rope.ts / family.ts: inverse frequencies, llama3 scaling, rotate-half,
 * GQA head mapping, the causal and sliding masks, q/k norms, Gemma's (1 + w) sandwich norms,
 * scaled embedding, tanh GELU and soft-capping are all re-derived here.
 */
import type { ModelConfig } from '../types';

export interface RefLayer {
  inNorm: Float64Array;
  postNorm: Float64Array;
  q: Float64Array;
  k: Float64Array;
  v: Float64Array;
  o: Float64Array;
  gate: Float64Array;
  up: Float64Array;
  down: Float64Array;
  qb: Float64Array | null;
  kb: Float64Array | null;
  vb: Float64Array | null;
  ob: Float64Array | null;
  qNorm: Float64Array | null; // [hd] qwen3, gemma3_text
  kNorm: Float64Array | null; // [hd]
  preFfNorm: Float64Array | null; // [D] gemma3_text
  postFfNorm: Float64Array | null; // [D]
}
export interface RefWeights {
  embed: Float64Array; // [V, D] (all shards concatenated)
  layers: RefLayer[];
  norm: Float64Array; // [D]
  lmHead: Float64Array; // [V, D] (the embedding when tied)
}

/** y[n, o] = sum_i x[n, i] W[o, i] + b[o] */
function linear(
  x: Float64Array,
  N: number,
  inDim: number,
  W: Float64Array,
  outDim: number,
  b: Float64Array | null,
): Float64Array {
  const y = new Float64Array(N * outDim);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < outDim; o++) {
      let s = b ? b[o] : 0;
      for (let i = 0; i < inDim; i++) s += x[n * inDim + i] * W[o * inDim + i];
      y[n * outDim + o] = s;
    }
  return y;
}

/** RMSNorm of N rows of D; Gemma stores the weight zero-centred and multiplies by (1 + w). */
function rmsNorm(x: Float64Array, N: number, D: number, w: Float64Array, eps: number, plusOne = false): Float64Array {
  const y = new Float64Array(N * D);
  for (let n = 0; n < N; n++) {
    let ss = 0;
    for (let d = 0; d < D; d++) ss += x[n * D + d] ** 2;
    const r = 1 / Math.sqrt(ss / D + eps);
    for (let d = 0; d < D; d++) y[n * D + d] = x[n * D + d] * r * (plusOne ? 1 + w[d] : w[d]);
  }
  return y;
}

const softcapped = (x: number, cap: number | undefined) => (cap === undefined ? x : cap * Math.tanh(x / cap));

/** HF gelu_pytorch_tanh. */
const geluTanh = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

/**
 * Frequencies of each rotary pair, with Llama 3.1 frequency-band scaling; Gemma's sliding layers
 * use plain RoPE on rope_local_base_freq.
 */
export function refInvFreq(c: ModelConfig, sliding = false): Float64Array {
  const half = c.headDim / 2;
  const f = new Float64Array(half);
  const local = sliding && c.localRopeTheta !== undefined;
  const theta = local ? (c.localRopeTheta as number) : c.ropeTheta;
  for (let i = 0; i < half; i++) f[i] = Math.pow(theta, -(2 * i) / c.headDim);
  const s = local ? null : c.ropeScaling;
  if (!s) return f;
  for (let i = 0; i < half; i++) {
    const wl = (2 * Math.PI) / f[i];
    const longest = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
    const shortest = s.originalMaxPositionEmbeddings / s.highFreqFactor;
    if (wl < shortest) continue; // high frequency: unchanged
    if (wl > longest) {
      f[i] = f[i] / s.factor;
      continue;
    } // low frequency: interpolated fully
    const a = (s.originalMaxPositionEmbeddings / wl - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
    f[i] = (1 - a) * (f[i] / s.factor) + a * f[i];
  }
  return f;
}

/** Rotate pairs (j, j + hd/2) of one head vector in place by angle pos·freq[j]. */
function rotate(vec: Float64Array, off: number, hd: number, pos: number, freq: Float64Array): void {
  const half = hd / 2;
  for (let j = 0; j < half; j++) {
    const a = vec[off + j],
      b = vec[off + j + half];
    const c = Math.cos(pos * freq[j]),
      s = Math.sin(pos * freq[j]);
    vec[off + j] = a * c - b * s;
    vec[off + j + half] = b * c + a * s;
  }
}

/** Logits [B, T, V] (flattened) for token ids [B][T]. */
export function referenceForward(c: ModelConfig, w: RefWeights, ids: number[][]): Float64Array {
  const B = ids.length,
    T = ids[0].length,
    D = c.hiddenSize,
    F = c.intermediateSize,
    V = c.vocabSize;
  const H = c.numHeads,
    Hkv = c.numKvHeads,
    hd = c.headDim;
  const gemma = c.modelType === 'gemma3_text';
  const eps = c.rmsNormEps;
  const norm = (x: Float64Array, N: number, width: number, weight: Float64Array) =>
    rmsNorm(x, N, width, weight, eps, gemma);
  // Gemma3TextScaledWordEmbedding: √D held in a float32 buffer.
  const embedScale = gemma ? Math.fround(Math.sqrt(D)) : 1;
  const scale = 1 / Math.sqrt(c.queryPreAttnScalar ?? hd);
  const out = new Float64Array(B * T * V);
  for (let b = 0; b < B; b++) {
    let x = new Float64Array(T * D);
    for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) x[t * D + d] = w.embed[ids[b][t] * D + d] * embedScale;
    w.layers.forEach((L, layer) => {
      const sliding = c.layerTypes?.[layer] === 'sliding_attention';
      const window = sliding ? (c.slidingWindow as number) : Infinity;
      const freq = refInvFreq(c, sliding);
      const xn = norm(x, T, D, L.inNorm);
      let q = linear(xn, T, D, L.q, H * hd, L.qb);
      let k = linear(xn, T, D, L.k, Hkv * hd, L.kb);
      const v = linear(xn, T, D, L.v, Hkv * hd, L.vb);
      // Per-head q/k RMSNorm (one [hd] weight for every head) before RoPE.
      if (L.qNorm) q = norm(q, T * H, hd, L.qNorm);
      if (L.kNorm) k = norm(k, T * Hkv, hd, L.kNorm);
      for (let t = 0; t < T; t++) {
        for (let h = 0; h < H; h++) rotate(q, t * H * hd + h * hd, hd, t, freq);
        for (let h = 0; h < Hkv; h++) rotate(k, t * Hkv * hd + h * hd, hd, t, freq);
      }
      const att = new Float64Array(T * H * hd);
      for (let h = 0; h < H; h++) {
        const g = Math.floor(h / (H / Hkv)); // the kv head this query head shares
        for (let t = 0; t < T; t++) {
          const first = Math.max(0, t - window + 1); // a sliding layer sees t − window < s ≤ t
          const sc = new Float64Array(t + 1);
          let mx = -Infinity;
          for (let s = first; s <= t; s++) {
            let dot = 0;
            for (let j = 0; j < hd; j++) dot += q[t * H * hd + h * hd + j] * k[s * Hkv * hd + g * hd + j];
            sc[s] = softcapped(dot * scale, c.attnLogitSoftcapping);
            mx = Math.max(mx, sc[s]);
          }
          let z = 0;
          for (let s = first; s <= t; s++) {
            sc[s] = Math.exp(sc[s] - mx);
            z += sc[s];
          }
          for (let s = first; s <= t; s++)
            for (let j = 0; j < hd; j++) att[t * H * hd + h * hd + j] += (sc[s] / z) * v[s * Hkv * hd + g * hd + j];
        }
      }
      let o = linear(att, T, H * hd, L.o, D, L.ob);
      // Gemma: post_attention_layernorm norms the attention output; the MLP has its own norms.
      if (gemma) o = norm(o, T, D, L.postNorm);
      x = x.map((val, i) => val + o[i]);
      const xm = norm(x, T, D, gemma ? (L.preFfNorm as Float64Array) : L.postNorm);
      const gt = linear(xm, T, D, L.gate, F, null);
      const up = linear(xm, T, D, L.up, F, null);
      const act = gt.map((gv, i) => (gemma ? geluTanh(gv) : gv / (1 + Math.exp(-gv))) * up[i]);
      let dn = linear(act, T, F, L.down, D, null);
      if (gemma) dn = norm(dn, T, D, L.postFfNorm as Float64Array);
      x = x.map((val, i) => val + dn[i]);
    });
    const xf = norm(x, T, D, w.norm);
    const logits = linear(xf, T, D, w.lmHead, V, null).map((z) => softcapped(z, c.finalLogitSoftcapping));
    out.set(logits, b * T * V);
  }
  return out;
}
