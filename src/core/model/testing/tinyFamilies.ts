/**
 * Tiny config.json objects of the qwen3 and gemma3_text families with every distinguishing
 * feature switched on, in both config layouts, and random weights whose norms are not the
 * identity, for tests (forward against the float64 reference, gradients, CLI, recipe).
 */
import * as tf from '@tensorflow/tfjs';
import { parseConfig } from '../config';
import { initWeights } from '../init';
import type { ExtraNormName, LlamaModel, ModelConfig } from '../types';

const shape = {
  vocab_size: 50,
  hidden_size: 32,
  intermediate_size: 48,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 12, // H·hd = 48 ≠ D: head_dim independent of hidden / heads
  rms_norm_eps: 1e-6,
  max_position_embeddings: 256,
  bos_token_id: 1,
  eos_token_id: 2,
};

/** transformers ≥ 5 layout: `rope_parameters` with llama3 scaling, `layer_types`; untied. */
export const QWEN3_NEW_LAYOUT = {
  ...shape,
  architectures: ['Qwen3ForCausalLM'],
  model_type: 'qwen3',
  num_hidden_layers: 2,
  tie_word_embeddings: false,
  attention_bias: false,
  use_sliding_window: false,
  layer_types: ['full_attention', 'full_attention'],
  rope_parameters: {
    rope_type: 'llama3',
    rope_theta: 500000,
    factor: 8,
    low_freq_factor: 1,
    high_freq_factor: 4,
    original_max_position_embeddings: 64,
  },
  dtype: 'float32',
  transformers_version: '5.0.0',
};

/** The older layout (`rope_theta`, `rope_scaling`); tied, with attention biases. */
export const QWEN3_OLD_LAYOUT = {
  ...shape,
  architectures: ['Qwen3ForCausalLM'],
  model_type: 'qwen3',
  num_hidden_layers: 2,
  tie_word_embeddings: true,
  attention_bias: true,
  rope_theta: 1000000,
  rope_scaling: null,
  sliding_window: null,
  use_sliding_window: false,
  max_window_layers: 28,
  torch_dtype: 'bfloat16',
};

/**
 * transformers ≥ 5 layout: one RoPE per layer type (llama3-scaled full layers), a window of 3
 * shorter than the test sequences, both soft-caps, query_pre_attn_scalar ≠ head_dim, untied.
 */
export const GEMMA3_NEW_LAYOUT = {
  ...shape,
  architectures: ['Gemma3ForCausalLM'],
  model_type: 'gemma3_text',
  num_hidden_layers: 3,
  tie_word_embeddings: false,
  hidden_activation: 'gelu_pytorch_tanh',
  query_pre_attn_scalar: 20,
  sliding_window: 3,
  layer_types: ['sliding_attention', 'full_attention', 'sliding_attention'],
  attn_logit_softcapping: 2.0,
  final_logit_softcapping: 3.0,
  rope_parameters: {
    full_attention: {
      rope_type: 'llama3',
      rope_theta: 1000000,
      factor: 8,
      low_freq_factor: 1,
      high_freq_factor: 4,
      original_max_position_embeddings: 64,
    },
    sliding_attention: { rope_type: 'default', rope_theta: 100 },
  },
  use_bidirectional_attention: false,
  attention_bias: false,
  pad_token_id: 0,
  dtype: 'bfloat16',
};

/** The older layout: rope_theta + rope_local_base_freq, sliding_window_pattern, tied, no caps. */
export const GEMMA3_OLD_LAYOUT = {
  ...shape,
  architectures: ['Gemma3ForCausalLM'],
  model_type: 'gemma3_text',
  num_hidden_layers: 2,
  tie_word_embeddings: true,
  hidden_activation: 'gelu_pytorch_tanh',
  query_pre_attn_scalar: 12,
  sliding_window: 4,
  sliding_window_pattern: 2,
  rope_theta: 1000000,
  rope_local_base_freq: 10000,
  rope_scaling: null,
  attn_logit_softcapping: null,
  final_logit_softcapping: null,
  cache_implementation: 'hybrid',
  torch_dtype: 'bfloat16',
};

export const FAMILY_CASES: { name: string; json: Record<string, unknown> }[] = [
  { name: 'qwen3, new layout: llama3 rope_parameters, untied, head_dim 12 ≠ D/H', json: QWEN3_NEW_LAYOUT },
  { name: 'qwen3, old layout: tied, attention bias', json: QWEN3_OLD_LAYOUT },
  {
    name: 'gemma3_text, new layout: window 3, soft-caps, query_pre_attn_scalar 20, llama3 full RoPE, untied',
    json: GEMMA3_NEW_LAYOUT,
  },
  { name: 'gemma3_text, old layout: sliding_window_pattern 2, local base, tied', json: GEMMA3_OLD_LAYOUT },
];

/**
 * Random weights (std 0.2, so the loss is far from uniform) whose RMSNorm weights are random
 * too: Gemma's zero-centred ones around 0, the others around 1.
 */
export function randomFamilyModel(json: Record<string, unknown>, seed: number): LlamaModel {
  const config: ModelConfig = parseConfig(json);
  const weights = initWeights(config, seed, { std: 0.2 });
  const centre = config.modelType === 'gemma3_text' ? 0 : 1;
  let counter = 0;
  const noisy = (t: tf.Tensor1D): tf.Tensor1D => {
    const out = tf.tidy(() => tf.add(tf.randomNormal(t.shape, centre, 0.3, 'float32', seed * 131 + ++counter), 0));
    t.dispose();
    return out as tf.Tensor1D;
  };
  for (const layer of weights.layers) {
    layer.inputLayernorm = noisy(layer.inputLayernorm);
    layer.postAttentionLayernorm = noisy(layer.postAttentionLayernorm);
    const norms = layer.norms ?? {};
    for (const name of Object.keys(norms) as ExtraNormName[]) norms[name] = noisy(norms[name] as tf.Tensor1D);
  }
  weights.norm = noisy(weights.norm);
  return { config, weights };
}
