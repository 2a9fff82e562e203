/** Tiny model configurations for tests, and a bridge from tfjs weights to the float64 reference. */
import type * as tf from '@tensorflow/tfjs';
import type { RefWeights } from './referenceLlama';
import type { LlamaWeights, ModelConfig } from '../types';

export function tinyConfig(overrides: Partial<ModelConfig> = {}): ModelConfig {
  return {
    modelType: 'llama',
    vocabSize: 50,
    hiddenSize: 32,
    intermediateSize: 48,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 8,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    ropeScaling: null,
    maxPositionEmbeddings: 256,
    tieWordEmbeddings: false,
    attentionBias: false,
    bosTokenId: 1,
    eosTokenIds: [2],
    ...overrides,
  };
}

const f64 = (t: tf.Tensor): Float64Array => Float64Array.from(t.dataSync());
const cat = (ts: tf.Tensor[]): Float64Array => Float64Array.from(ts.flatMap((t) => Array.from(t.dataSync())));

export function toRefWeights(w: LlamaWeights): RefWeights {
  const embed = cat(w.embedTokens);
  return {
    embed,
    layers: w.layers.map((L) => ({
      inNorm: f64(L.inputLayernorm),
      postNorm: f64(L.postAttentionLayernorm),
      q: f64(L.linear.q_proj),
      k: f64(L.linear.k_proj),
      v: f64(L.linear.v_proj),
      o: f64(L.linear.o_proj),
      gate: f64(L.linear.gate_proj),
      up: f64(L.linear.up_proj),
      down: f64(L.linear.down_proj),
      qb: L.bias.q_proj ? f64(L.bias.q_proj) : null,
      kb: L.bias.k_proj ? f64(L.bias.k_proj) : null,
      vb: L.bias.v_proj ? f64(L.bias.v_proj) : null,
      ob: L.bias.o_proj ? f64(L.bias.o_proj) : null,
      qNorm: L.norms?.['self_attn.q_norm'] ? f64(L.norms['self_attn.q_norm']) : null,
      kNorm: L.norms?.['self_attn.k_norm'] ? f64(L.norms['self_attn.k_norm']) : null,
      preFfNorm: L.norms?.pre_feedforward_layernorm ? f64(L.norms.pre_feedforward_layernorm) : null,
      postFfNorm: L.norms?.post_feedforward_layernorm ? f64(L.norms.post_feedforward_layernorm) : null,
    })),
    norm: f64(w.norm),
    lmHead: w.lmHead ? cat(w.lmHead) : embed,
  };
}

/** Deterministic pseudo-random token ids in [0, V). */
export function randomIds(B: number, T: number, V: number, seed: number): number[][] {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % V;
  return Array.from({ length: B }, () => Array.from({ length: T }, next));
}
