/**
 * Random weights for a model configuration, as HF initialises a fresh LlamaForCausalLM:
 * every linear and the embedding ~ normal(0, initializer_range = 0.02), RMSNorm weights = 1.
 * Biases (qwen2 q/k/v; llama attention_bias q/k/v/o) are small random values rather than HF's
 * zeros, so that tests exercise them. Deterministic by seed.
 */
import * as tf from '@tensorflow/tfjs';
import { biasedModules } from './config';
import { extraNorms } from './family';
import { MODULE_NAMES, type LayerWeights, type LlamaWeights, type ModelConfig, type ModuleName } from './types';

export interface InitOptions {
  /** Rows per embedding / lm_head shard (default: one shard). Tests use it to exercise sharding. */
  shardRows?: number;
  /** Standard deviation of linear and embedding weights (HF initializer_range). */
  std?: number;
}

/** [out, in] of each linear module. */
export function linearShape(config: ModelConfig, module: ModuleName): [number, number] {
  const { hiddenSize: D, intermediateSize: F, numHeads: H, numKvHeads: Hkv, headDim: hd } = config;
  switch (module) {
    case 'q_proj':
      return [H * hd, D];
    case 'k_proj':
      return [Hkv * hd, D];
    case 'v_proj':
      return [Hkv * hd, D];
    case 'o_proj':
      return [D, H * hd];
    case 'gate_proj':
      return [F, D];
    case 'up_proj':
      return [F, D];
    case 'down_proj':
      return [D, F];
  }
}

export function initWeights(config: ModelConfig, seed: number, options: InitOptions = {}): LlamaWeights {
  const std = options.std ?? 0.02;
  let counter = 0;
  // One derived seed per tensor, so adding a tensor never changes the others' values.
  const normal = <R extends tf.Rank>(shape: number[]): tf.Tensor<R> =>
    tf.randomNormal(shape as tf.ShapeMap[R], 0, std, 'float32', seed * 7919 + ++counter);
  const shards = (): tf.Tensor2D[] => {
    const rows = options.shardRows ?? config.vocabSize;
    const out: tf.Tensor2D[] = [];
    for (let start = 0; start < config.vocabSize; start += rows)
      out.push(normal<tf.Rank.R2>([Math.min(rows, config.vocabSize - start), config.hiddenSize]));
    return out;
  };
  const embedTokens = shards();
  const layers: LayerWeights[] = [];
  for (let i = 0; i < config.numLayers; i++) {
    const linear = {} as Record<ModuleName, tf.Tensor2D>;
    for (const m of MODULE_NAMES) linear[m] = normal<tf.Rank.R2>(linearShape(config, m));
    const bias: LayerWeights['bias'] = {};
    for (const m of biasedModules(config)) bias[m] = normal<tf.Rank.R1>([linearShape(config, m)[0]]);
    const norms: LayerWeights['norms'] = {};
    for (const { name, size } of extraNorms(config)) norms[name] = tf.ones([size]);
    layers.push({
      inputLayernorm: tf.ones([config.hiddenSize]),
      postAttentionLayernorm: tf.ones([config.hiddenSize]),
      linear,
      bias,
      norms,
    });
  }
  return {
    embedTokens,
    layers,
    norm: tf.ones([config.hiddenSize]),
    lmHead: config.tieWordEmbeddings ? null : shards(),
  };
}

/** Every tensor of a set of weights, in a fixed order. */
export function weightTensors(weights: LlamaWeights): tf.Tensor[] {
  const out: tf.Tensor[] = [...weights.embedTokens];
  for (const layer of weights.layers) {
    out.push(layer.inputLayernorm, layer.postAttentionLayernorm, ...Object.values(layer.norms ?? {}));
    for (const m of MODULE_NAMES) {
      out.push(layer.linear[m]);
      const b = layer.bias[m];
      if (b) out.push(b);
    }
  }
  out.push(weights.norm, ...(weights.lmHead ?? []));
  return out;
}

export function disposeWeights(weights: LlamaWeights): void {
  for (const t of weightTensors(weights)) t.dispose();
}
