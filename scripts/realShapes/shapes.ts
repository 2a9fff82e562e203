/**
 * The config.json of small models people fine-tune, as published on the HuggingFace Hub (weights
 * and tokenizer are made up by write.ts): the shapes the studio must load, fit and train.
 * bos/eos ids are those of the synthetic tokenizer (tokenizer.ts), not the real ones.
 */
export interface RealShape {
  /** Directory name under test-checkpoints/. */
  name: string;
  config: Record<string, unknown>;
  /** The published checkpoint is split into shards with an index (none of these is). */
  sharded: boolean;
}

/** Where the checkpoints are written, relative to the repository root (git-ignored). */
export const CHECKPOINTS_DIR = 'test-checkpoints';

const SYNTHETIC_SPECIAL_IDS = { bos_token_id: 0, eos_token_id: 0 };

export const SMOLLM2_135M: RealShape = {
  name: 'smollm2-135m',
  sharded: false,
  config: {
    architectures: ['LlamaForCausalLM'],
    attention_bias: false,
    attention_dropout: 0.0,
    hidden_act: 'silu',
    hidden_size: 576,
    initializer_range: 0.041666666666666664,
    intermediate_size: 1536,
    max_position_embeddings: 8192,
    mlp_bias: false,
    model_type: 'llama',
    num_attention_heads: 9,
    num_hidden_layers: 30,
    num_key_value_heads: 3,
    pretraining_tp: 1,
    rms_norm_eps: 1e-5,
    rope_scaling: null,
    rope_theta: 100000,
    tie_word_embeddings: true,
    torch_dtype: 'bfloat16',
    use_cache: true,
    vocab_size: 49152,
    ...SYNTHETIC_SPECIAL_IDS,
  },
};

export const QWEN25_05B: RealShape = {
  name: 'qwen2.5-0.5b',
  sharded: false,
  config: {
    architectures: ['Qwen2ForCausalLM'],
    attention_dropout: 0.0,
    hidden_act: 'silu',
    hidden_size: 896,
    initializer_range: 0.02,
    intermediate_size: 4864,
    max_position_embeddings: 32768,
    max_window_layers: 24,
    model_type: 'qwen2',
    num_attention_heads: 14,
    num_hidden_layers: 24,
    num_key_value_heads: 2,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000.0,
    sliding_window: 32768,
    tie_word_embeddings: true,
    torch_dtype: 'bfloat16',
    use_cache: true,
    use_sliding_window: false,
    vocab_size: 151936,
    ...SYNTHETIC_SPECIAL_IDS,
  },
};

const GEMMA3_LAYER_TYPES = Array.from({ length: 18 }, (_, i) =>
  (i + 1) % 6 === 0 ? 'full_attention' : 'sliding_attention',
);

export const GEMMA3_270M: RealShape = {
  name: 'gemma-3-270m',
  sharded: false,
  config: {
    _sliding_window_pattern: 6,
    architectures: ['Gemma3ForCausalLM'],
    attention_bias: false,
    attention_dropout: 0.0,
    attn_logit_softcapping: null,
    final_logit_softcapping: null,
    head_dim: 256,
    hidden_activation: 'gelu_pytorch_tanh',
    hidden_size: 640,
    initializer_range: 0.02,
    intermediate_size: 2048,
    layer_types: GEMMA3_LAYER_TYPES,
    max_position_embeddings: 32768,
    model_type: 'gemma3_text',
    num_attention_heads: 4,
    num_hidden_layers: 18,
    num_key_value_heads: 1,
    pad_token_id: 0,
    query_pre_attn_scalar: 256,
    rms_norm_eps: 1e-6,
    rope_local_base_freq: 10000.0,
    rope_scaling: null,
    rope_theta: 1000000.0,
    sliding_window: 512,
    torch_dtype: 'bfloat16',
    use_bidirectional_attention: false,
    use_cache: true,
    vocab_size: 262144,
    ...SYNTHETIC_SPECIAL_IDS,
  },
};

export const REAL_SHAPES: readonly RealShape[] = [SMOLLM2_135M, QWEN25_05B, GEMMA3_270M];

/** A real shape's width and vocabulary with fewer layers: what CPU-emulated WebGPU trains in CI time. */
export function withLayers(shape: RealShape, layers: number): RealShape {
  return {
    name: `${shape.name}-${layers}layers`,
    sharded: shape.sharded,
    config: {
      ...shape.config,
      num_hidden_layers: layers,
      ...(Array.isArray(shape.config.layer_types) ? { layer_types: shape.config.layer_types.slice(0, layers) } : {}),
    },
  };
}
