/**
 * The shared vocabulary of the core: a LLaMA-family model's configuration, its weights and
 * the one linear-layer hook that the fine-tuning methods override.
 *
 * Conventions (HuggingFace LlamaForCausalLM): a linear weight is stored as `[out, in]` and
 * applied as `y = x Wᵀ (+ b)`. Shapes in comments use
 *   B batch, T time, D hidden, H heads, Hkv key/value heads, hd head dim, F intermediate, V vocab.
 */
import type * as tf from '@tensorflow/tfjs';

export type ModelType = 'llama' | 'mistral' | 'qwen2' | 'qwen3' | 'gemma3_text';

/** HF `layer_types` entries: a layer attends to every earlier position, or to the last `slidingWindow`. */
export type LayerType = 'full_attention' | 'sliding_attention';

/** rope_scaling of type "llama3" (Llama 3.1 / 3.2). */
export interface Llama3RopeScaling {
  type: 'llama3';
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

export interface ModelConfig {
  modelType: ModelType;
  vocabSize: number; // V
  hiddenSize: number; // D
  intermediateSize: number; // F
  numLayers: number; // L
  numHeads: number; // H
  numKvHeads: number; // Hkv (H % Hkv == 0)
  headDim: number; // hd (config.head_dim, else D / H)
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: Llama3RopeScaling | null;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  attentionBias: boolean; // q/k/v biases (qwen2; llama `attention_bias`)
  bosTokenId: number | null;
  eosTokenIds: number[];
  // Family settings (family.ts says which family has which); absent where the family has none.
  /** Each layer's attention span; absent = every layer full. */
  layerTypes?: LayerType[];
  /** A sliding layer's query at position t sees keys s with t − slidingWindow < s ≤ t. */
  slidingWindow?: number;
  /** RoPE base of sliding layers (gemma3_text `rope_local_base_freq`, plain RoPE); absent = ropeTheta. */
  localRopeTheta?: number;
  /** Attention scores are scaled by queryPreAttnScalar^−½ (gemma3_text); absent = headDim^−½. */
  queryPreAttnScalar?: number;
  /** Attention scores become cap·tanh(scores / cap) before the mask (gemma3_text). */
  attnLogitSoftcapping?: number;
  /** Logits become cap·tanh(logits / cap) (gemma3_text). */
  finalLogitSoftcapping?: number;
}

/** The seven linear modules of a decoder layer, by their HF names. */
export type ModuleName = 'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj';
export const MODULE_NAMES: readonly ModuleName[] = [
  'q_proj',
  'k_proj',
  'v_proj',
  'o_proj',
  'gate_proj',
  'up_proj',
  'down_proj',
];
export const ATTENTION_MODULES: readonly ModuleName[] = ['q_proj', 'k_proj', 'v_proj', 'o_proj'];

/** HF tensor name of a layer's linear weight, e.g. `model.layers.3.self_attn.o_proj.weight`. */
export function linearWeightName(layer: number, module: ModuleName): string {
  const block = ATTENTION_MODULES.includes(module) ? 'self_attn' : 'mlp';
  return `model.layers.${layer}.${block}.${module}`;
}

/**
 * A layer's RMSNorms beyond input/post_attention, by their HF names inside the layer
 * (`model.layers.{i}.<name>.weight`): qwen3 and gemma3_text norm each query/key head with one
 * [hd] weight shared by all heads; gemma3_text also norms the MLP's input and output.
 */
export type ExtraNormName =
  'self_attn.q_norm' | 'self_attn.k_norm' | 'pre_feedforward_layernorm' | 'post_feedforward_layernorm';

export interface LayerWeights {
  inputLayernorm: tf.Tensor1D; // [D]
  postAttentionLayernorm: tf.Tensor1D; // [D]
  linear: Record<ModuleName, tf.Tensor2D>; // [out, in] each
  bias: Partial<Record<ModuleName, tf.Tensor1D>>; // q/k/v biases when attentionBias
  /** The family's extra norms (family.ts `extraNorms`): q/k norms [hd], feed-forward norms [D]. */
  norms?: Partial<Record<ExtraNormName, tf.Tensor1D>>;
}

export interface LlamaWeights {
  /** Token embedding, split by rows into shards that fit a GPU buffer: concat(shards) = [V, D]. */
  embedTokens: tf.Tensor2D[];
  layers: LayerWeights[];
  norm: tf.Tensor1D; // [D]
  /** Output projection shards [V_i, D]; null when tie_word_embeddings (reuse embedTokens). */
  lmHead: tf.Tensor2D[] | null;
}

export interface LlamaModel {
  config: ModelConfig;
  weights: LlamaWeights;
}

/**
 * Where a linear sits in the model: a decoder module, or the output projection (layer = L, after the last decoder
 * layer).
 */
export interface LinearSite {
  layer: number;
  module: ModuleName | 'lm_head';
}

/**
 * Every linear layer of the forward pass (lm_head included) goes through this function, so that a
 * fine-tuning method (S²FT's partial-backprop linear, LoRA, full FT) can replace it.
 *   x: [N, in], weight: [out, in], bias: [out] | null  →  [N, out]
 */
export type LinearFn = (x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D | null, site: LinearSite) => tf.Tensor2D;
