/**
 * The tensors of a HuggingFace LlamaForCausalLM checkpoint that a config implies: their names,
 * exact shapes and a canonical order (embedding, then each layer, final norm, lm_head). The loader
 * checks a file against it, the writer writes it, the fingerprint walks it.
 */
import { UserError } from '../errors';
import { biasedModules } from '../model/config';
import { extraNorms } from '../model/family';
import { linearShape } from '../model/init';
import type * as tf from '@tensorflow/tfjs';
import {
  MODULE_NAMES,
  linearWeightName,
  type ExtraNormName,
  type LlamaWeights,
  type ModelConfig,
} from '../model/types';

export const EMBED_TOKENS = 'model.embed_tokens.weight';
export const FINAL_NORM = 'model.norm.weight';
export const LM_HEAD = 'lm_head.weight';

export interface TensorSpec {
  name: string;
  shape: number[];
}

export const inputLayernormName = (layer: number) => `model.layers.${layer}.input_layernorm.weight`;
export const postAttentionLayernormName = (layer: number) => `model.layers.${layer}.post_attention_layernorm.weight`;
/** A family's extra norm (q/k norms, Gemma's feed-forward norms): `model.layers.3.self_attn.q_norm.weight`. */
export const extraNormName = (layer: number, norm: ExtraNormName) => `model.layers.${layer}.${norm}.weight`;

/** Every tensor the model needs, in canonical order. A tied model has no lm_head.weight. */
export function checkpointTensors(config: ModelConfig): TensorSpec[] {
  const { vocabSize: V, hiddenSize: D } = config;
  const specs: TensorSpec[] = [{ name: EMBED_TOKENS, shape: [V, D] }];
  const biased = biasedModules(config);
  for (let i = 0; i < config.numLayers; i++) {
    specs.push({ name: inputLayernormName(i), shape: [D] }, { name: postAttentionLayernormName(i), shape: [D] });
    for (const { name, size } of extraNorms(config)) specs.push({ name: extraNormName(i, name), shape: [size] });
    for (const m of MODULE_NAMES)
      specs.push({ name: `${linearWeightName(i, m)}.weight`, shape: linearShape(config, m) });
    for (const m of biased) specs.push({ name: `${linearWeightName(i, m)}.bias`, shape: [linearShape(config, m)[0]] });
  }
  specs.push({ name: FINAL_NORM, shape: [D] });
  if (!config.tieWordEmbeddings) specs.push({ name: LM_HEAD, shape: [V, D] });
  return specs;
}

/**
 * The tensors of in-memory weights by HF name, each as row-contiguous pieces (the embedding and
 * lm_head shards; one piece otherwise). A bias HF's module has but the weights lack (init.ts
 * leaves out Llama's o_proj bias) is absent from the map: it stands for zeros.
 */
export function namedWeights(config: ModelConfig, weights: LlamaWeights): Map<string, tf.Tensor[]> {
  const named = new Map<string, tf.Tensor[]>([[EMBED_TOKENS, weights.embedTokens]]);
  weights.layers.forEach((layer, i) => {
    named.set(inputLayernormName(i), [layer.inputLayernorm]);
    named.set(postAttentionLayernormName(i), [layer.postAttentionLayernorm]);
    for (const { name } of extraNorms(config)) {
      const norm = layer.norms?.[name];
      if (norm) named.set(extraNormName(i, name), [norm]);
    }
    for (const m of MODULE_NAMES) named.set(`${linearWeightName(i, m)}.weight`, [layer.linear[m]]);
    for (const m of biasedModules(config)) {
      const bias = layer.bias[m];
      if (bias) named.set(`${linearWeightName(i, m)}.bias`, [bias]);
    }
  });
  named.set(FINAL_NORM, [weights.norm]);
  if (weights.lmHead) named.set(LM_HEAD, weights.lmHead);
  return named;
}

/**
 * Row ranges [start, end) that split a [rows, cols] float32 matrix into pieces of at most
 * maxBufferBytes each, so a large embedding fits the GPU's largest storage buffer.
 */
export function rowShards(name: string, rows: number, cols: number, maxBufferBytes: number): [number, number][] {
  const rowBytes = 4 * cols;
  if (rowBytes > maxBufferBytes) {
    throw new UserError(
      'too-large',
      `one row of ${name} takes ${rowBytes} bytes, more than the device's ${maxBufferBytes}-byte buffer limit`,
    );
  }
  const perShard = Math.floor(maxBufferBytes / rowBytes);
  const ranges: [number, number][] = [];
  for (let start = 0; start < rows; start += perShard) ranges.push([start, Math.min(rows, start + perShard)]);
  return ranges;
}
