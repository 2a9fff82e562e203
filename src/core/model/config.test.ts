import { describe, expect, it } from 'vitest';
import { UserError } from '../errors';
import { biasedModules, countParameters, estimateMemoryBytes, parseConfig, toHfConfig } from './config';

// Configs as published on the HuggingFace hub (abridged to the fields that matter).
const smolLM2: Record<string, unknown> = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  vocab_size: 49152,
  hidden_size: 576,
  intermediate_size: 1536,
  num_hidden_layers: 30,
  num_attention_heads: 9,
  num_key_value_heads: 3,
  rms_norm_eps: 1e-5,
  rope_theta: 100000,
  max_position_embeddings: 8192,
  tie_word_embeddings: true,
  bos_token_id: 1,
  eos_token_id: 2,
  hidden_act: 'silu',
  attention_bias: false,
  mlp_bias: false,
  rope_scaling: null,
  torch_dtype: 'bfloat16',
  pretraining_tp: 1,
};
const qwen25: Record<string, unknown> = {
  architectures: ['Qwen2ForCausalLM'],
  model_type: 'qwen2',
  vocab_size: 151936,
  hidden_size: 896,
  intermediate_size: 4864,
  num_hidden_layers: 24,
  num_attention_heads: 14,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000,
  max_position_embeddings: 32768,
  tie_word_embeddings: true,
  bos_token_id: 151643,
  eos_token_id: 151643,
  hidden_act: 'silu',
  sliding_window: 32768,
  use_sliding_window: false,
  max_window_layers: 21,
};
const tinyLlama: Record<string, unknown> = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  vocab_size: 32000,
  hidden_size: 2048,
  intermediate_size: 5632,
  num_hidden_layers: 22,
  num_attention_heads: 32,
  num_key_value_heads: 4,
  rms_norm_eps: 1e-5,
  max_position_embeddings: 2048,
  tie_word_embeddings: false,
  bos_token_id: 1,
  eos_token_id: 2,
  hidden_act: 'silu',
  rope_scaling: null,
};
const llama32: Record<string, unknown> = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  vocab_size: 128256,
  hidden_size: 2048,
  intermediate_size: 8192,
  num_hidden_layers: 16,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  head_dim: 64,
  rms_norm_eps: 1e-5,
  rope_theta: 500000,
  max_position_embeddings: 131072,
  tie_word_embeddings: true,
  bos_token_id: 128000,
  eos_token_id: [128001, 128008, 128009],
  hidden_act: 'silu',
  attention_bias: false,
  mlp_bias: false,
  rope_scaling: {
    factor: 32,
    high_freq_factor: 4,
    low_freq_factor: 1,
    original_max_position_embeddings: 8192,
    rope_type: 'llama3',
  },
};
const mistral: Record<string, unknown> = {
  architectures: ['MistralForCausalLM'],
  model_type: 'mistral',
  vocab_size: 32000,
  hidden_size: 64,
  intermediate_size: 128,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 32768,
  sliding_window: null,
  bos_token_id: 1,
  eos_token_id: 2,
};

// Qwen3-0.6B as written by transformers 4.51, and Gemma-3-270M by 4.55 (abridged: no field left out changes the model).
const qwen3: Record<string, unknown> = {
  architectures: ['Qwen3ForCausalLM'],
  attention_bias: false,
  attention_dropout: 0.0,
  bos_token_id: 151643,
  eos_token_id: 151645,
  head_dim: 128,
  hidden_act: 'silu',
  hidden_size: 1024,
  initializer_range: 0.02,
  intermediate_size: 3072,
  max_position_embeddings: 40960,
  max_window_layers: 28,
  model_type: 'qwen3',
  num_attention_heads: 16,
  num_hidden_layers: 28,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-6,
  rope_scaling: null,
  rope_theta: 1000000,
  sliding_window: null,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  transformers_version: '4.51.0',
  use_cache: true,
  use_sliding_window: false,
  vocab_size: 151936,
};
const gemma3: Record<string, unknown> = {
  _sliding_window_pattern: 6,
  architectures: ['Gemma3ForCausalLM'],
  attention_bias: false,
  attention_dropout: 0.0,
  attn_logit_softcapping: null,
  bos_token_id: 2,
  eos_token_id: 1,
  final_logit_softcapping: null,
  head_dim: 256,
  hidden_activation: 'gelu_pytorch_tanh',
  hidden_size: 640,
  initializer_range: 0.02,
  intermediate_size: 2048,
  layer_types: Array.from({ length: 18 }, (_, i) => ((i + 1) % 6 === 0 ? 'full_attention' : 'sliding_attention')),
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
  transformers_version: '4.55.0.dev0',
  use_bidirectional_attention: false,
  use_cache: true,
  vocab_size: 262144,
};
/** Gemma-3-270M as transformers 5 writes it: rope_parameters per layer type, dtype. */
const { rope_theta: _t, rope_local_base_freq: _l, rope_scaling: _s, torch_dtype: _d, ...gemma3Rest } = gemma3;
const gemma3v5: Record<string, unknown> = {
  ...gemma3Rest,
  dtype: 'bfloat16',
  rope_parameters: {
    full_attention: { rope_type: 'default', rope_theta: 1000000.0 },
    sliding_attention: { rope_type: 'default', rope_theta: 10000.0 },
  },
};
/** Llama 3.2 as transformers 5 writes it: rope_parameters holds theta and the llama3 scaling. */
const { rope_theta: _t2, rope_scaling: llama32Scaling, ...llama32Rest } = llama32;
const llama32v5: Record<string, unknown> = {
  ...llama32Rest,
  rope_parameters: { ...(llama32Scaling as object), rope_theta: 500000 },
};

describe('parseConfig', () => {
  it('reads SmolLM2-135M', () => {
    const c = parseConfig(smolLM2);
    expect(c).toEqual({
      modelType: 'llama',
      vocabSize: 49152,
      hiddenSize: 576,
      intermediateSize: 1536,
      numLayers: 30,
      numHeads: 9,
      numKvHeads: 3,
      headDim: 64,
      rmsNormEps: 1e-5,
      ropeTheta: 100000,
      ropeScaling: null,
      maxPositionEmbeddings: 8192,
      tieWordEmbeddings: true,
      attentionBias: false,
      bosTokenId: 1,
      eosTokenIds: [2],
    });
  });

  it('qwen2 has q/k/v biases; llama3 rope scaling and an eos list are read', () => {
    expect(parseConfig(qwen25).attentionBias).toBe(true);
    expect(biasedModules(parseConfig(qwen25))).toEqual(['q_proj', 'k_proj', 'v_proj']);
    const l = parseConfig(llama32);
    expect(l.ropeScaling).toEqual({
      type: 'llama3',
      factor: 32,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositionEmbeddings: 8192,
    });
    expect(l.eosTokenIds).toEqual([128001, 128008, 128009]);
    const biased = parseConfig({ ...smolLM2, attention_bias: true });
    expect(biased.attentionBias).toBe(true);
    expect(biasedModules(biased)).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj']);
  });

  it('applies HF defaults: kv heads, head_dim, tie_word_embeddings, rope_theta', () => {
    const { num_key_value_heads: _a, tie_word_embeddings: _b, rope_theta: _c, ...rest } = tinyLlama;
    const c = parseConfig(rest);
    expect([c.numKvHeads, c.headDim, c.tieWordEmbeddings, c.ropeTheta]).toEqual([32, 64, false, 10000]);
    expect(parseConfig({ ...tinyLlama, head_dim: 128 }).headDim).toBe(128);
    expect(parseConfig({ ...tinyLlama, rope_scaling: { rope_type: 'default' } }).ropeScaling).toBeNull();
    expect(parseConfig({ ...tinyLlama, eos_token_id: null, bos_token_id: null })).toMatchObject({
      eosTokenIds: [],
      bosTokenId: null,
    });
  });

  it('reads qwen3 and gemma3_text, gemma in both layouts alike', () => {
    expect(parseConfig(qwen3)).toMatchObject({ modelType: 'qwen3', headDim: 128, tieWordEmbeddings: true });
    const g = parseConfig(gemma3);
    expect(g).toMatchObject({
      modelType: 'gemma3_text',
      headDim: 256,
      ropeTheta: 1e6,
      localRopeTheta: 10000,
      slidingWindow: 512,
      queryPreAttnScalar: 256,
      tieWordEmbeddings: true,
    });
    expect(g.attnLogitSoftcapping).toBeUndefined();
    expect(g.layerTypes?.filter((t) => t === 'full_attention')).toHaveLength(3);
    expect(parseConfig(gemma3v5)).toEqual(g);
    // The older pattern field gives the same layer types as the list.
    const { layer_types: _lt, ...patterned } = gemma3;
    expect(parseConfig(patterned).layerTypes).toEqual(g.layerTypes);
    expect(parseConfig({ ...gemma3, final_logit_softcapping: 30 }).finalLogitSoftcapping).toBe(30);
  });

  it('honours llama3 rope scaling in the transformers 5 layout (rope_parameters)', () => {
    expect(parseConfig(llama32v5)).toEqual(parseConfig(llama32));
    expect(parseConfig(llama32v5).ropeScaling).toMatchObject({ type: 'llama3', factor: 32 });
    // Old fields beside the new object are accepted when they agree.
    expect(parseConfig({ ...llama32v5, rope_theta: 500000 }).ropeTheta).toBe(500000);
  });

  it('accepts a mistral sliding window that never binds', () => {
    expect(parseConfig(mistral).modelType).toBe('mistral');
    expect(parseConfig({ ...mistral, sliding_window: 32768 }).maxPositionEmbeddings).toBe(32768);
  });

  // [what, config, code, message]
  const refused: [string, unknown, string, string][] = [
    ['not an object', [1], 'bad-file', 'config.json: must be a JSON object'],
    ['no model_type', { ...smolLM2, model_type: undefined }, 'bad-file', 'config.json: model_type is missing'],
    [
      'another model_type',
      { ...smolLM2, model_type: 'gpt2' },
      'unsupported',
      'config.json: model_type "gpt2" is not supported (supported: llama, mistral, qwen2, qwen3, gemma3_text)',
    ],
    [
      'another architecture',
      { ...smolLM2, architectures: ['LlamaForSequenceClassification'] },
      'unsupported',
      'config.json: architectures ["LlamaForSequenceClassification"] is not supported for model_type "llama" (expected ["LlamaForCausalLM"])',
    ],
    ['missing hidden_size', { ...smolLM2, hidden_size: undefined }, 'bad-file', 'config.json: hidden_size is missing'],
    [
      'hidden_size a string',
      { ...smolLM2, hidden_size: '576' },
      'bad-file',
      'config.json: hidden_size must be a positive integer, got "576"',
    ],
    [
      'fractional layers',
      { ...smolLM2, num_hidden_layers: 2.5 },
      'bad-file',
      'config.json: num_hidden_layers must be a positive integer, got 2.5',
    ],
    [
      'zero vocab',
      { ...smolLM2, vocab_size: 0 },
      'bad-file',
      'config.json: vocab_size must be a positive integer, got 0',
    ],
    [
      'kv heads not dividing heads',
      { ...smolLM2, num_key_value_heads: 4 },
      'bad-file',
      'config.json: num_key_value_heads 4 must divide num_attention_heads (9)',
    ],
    [
      'hidden not divisible by heads',
      { ...smolLM2, hidden_size: 100 },
      'bad-file',
      'config.json: hidden_size 100 is not divisible by num_attention_heads (9) and head_dim is not given',
    ],
    [
      'gelu',
      { ...smolLM2, hidden_act: 'gelu' },
      'unsupported',
      'config.json: hidden_act "gelu" is not supported (only "silu")',
    ],
    [
      'mlp bias',
      { ...smolLM2, mlp_bias: true },
      'unsupported',
      'config.json: mlp_bias true is not supported (MLP layers without bias only)',
    ],
    [
      'linear rope scaling',
      { ...smolLM2, rope_scaling: { rope_type: 'linear', factor: 2 } },
      'unsupported',
      'config.json: rope_scaling of type "linear" is not supported (only "llama3" or none)',
    ],
    [
      'dynamic rope scaling (old "type" key)',
      { ...smolLM2, rope_scaling: { type: 'dynamic', factor: 2 } },
      'unsupported',
      'config.json: rope_scaling of type "dynamic" is not supported (only "llama3" or none)',
    ],
    [
      'llama3 rope without factor',
      { ...llama32, rope_scaling: { ...(llama32.rope_scaling as object), factor: undefined } },
      'bad-file',
      'config.json: rope_scaling.factor must be a positive number, got undefined',
    ],
    [
      'llama3 rope with inverted freq factors',
      { ...llama32, rope_scaling: { ...(llama32.rope_scaling as object), high_freq_factor: 1 } },
      'bad-file',
      'config.json: rope_scaling.high_freq_factor must exceed low_freq_factor, got 1 ≤ 1',
    ],
    [
      'rope_scaling a string',
      { ...smolLM2, rope_scaling: 'llama3' },
      'bad-file',
      'config.json: rope_scaling must be an object or null, got "llama3"',
    ],
    [
      'binding mistral sliding window',
      { ...mistral, sliding_window: 4096 },
      'unsupported',
      'config.json: sliding_window 4096 is not supported: the studio computes full attention, so it must be null or at least max_position_embeddings (32768)',
    ],
    [
      'qwen2 sliding window on',
      { ...qwen25, use_sliding_window: true },
      'unsupported',
      'config.json: use_sliding_window true is not supported (the studio computes full attention)',
    ],
    [
      'quantized',
      { ...smolLM2, quantization_config: { quant_method: 'gptq' } },
      'unsupported',
      'config.json: quantization_config is present: quantized checkpoints are not supported (use float32, float16 or bfloat16 weights)',
    ],
    [
      'partial rotary',
      { ...smolLM2, partial_rotary_factor: 0.5 },
      'unsupported',
      'config.json: partial_rotary_factor 0.5 is not supported (rotary over the full head only)',
    ],
    [
      'tie_word_embeddings a string',
      { ...smolLM2, tie_word_embeddings: 'yes' },
      'bad-file',
      'config.json: tie_word_embeddings must be true or false, got "yes"',
    ],
    [
      'eos a token string',
      { ...smolLM2, eos_token_id: '</s>' },
      'bad-file',
      'config.json: eos_token_id must be a token id or a list of token ids, got "</s>"',
    ],
    [
      'two bos ids',
      { ...smolLM2, bos_token_id: [1, 2] },
      'bad-file',
      'config.json: bos_token_id must be a single token id, got [1,2]',
    ],
    [
      'negative eps',
      { ...smolLM2, rms_norm_eps: -1 },
      'bad-file',
      'config.json: rms_norm_eps must be a positive number, got -1',
    ],
    [
      'an unknown key',
      { ...smolLM2, use_magic: true },
      'unsupported',
      "config.json: use_magic true is not supported: the studio does not know how it changes the model's computation",
    ],
    [
      'a gemma field on a llama',
      { ...smolLM2, query_pre_attn_scalar: 64 },
      'unsupported',
      "config.json: query_pre_attn_scalar 64 is not supported: the studio does not know how it changes the model's computation",
    ],
    [
      'attention dropout',
      { ...qwen3, attention_dropout: 0.1 },
      'unsupported',
      'config.json: attention_dropout 0.1 is not supported (the studio trains without dropout)',
    ],
    [
      'bidirectional gemma (EmbeddingGemma)',
      { ...gemma3, use_bidirectional_attention: true },
      'unsupported',
      'config.json: use_bidirectional_attention true is not supported (causal attention only (EmbeddingGemma is not a causal LM))',
    ],
    [
      'another gemma activation',
      { ...gemma3, hidden_activation: 'gelu' },
      'unsupported',
      'config.json: hidden_activation "gelu" is not supported (only "gelu_pytorch_tanh")',
    ],
    [
      'gemma linear rope scaling (Gemma 3 4B+)',
      { ...gemma3, rope_scaling: { rope_type: 'linear', factor: 8 } },
      'unsupported',
      'config.json: rope_scaling of type "linear" is not supported (only "llama3" or none)',
    ],
    [
      'qwen3 sliding layers',
      { ...qwen3, layer_types: Array.from({ length: 28 }, () => 'sliding_attention') },
      'unsupported',
      'config.json: layer_types ["sliding_attention","sliding_attention","sliding_attention","sliding_attention","sliding_attention… is not supported for model_type "qwen3" (full attention only)',
    ],
    [
      'layer_types of the wrong length',
      { ...gemma3, layer_types: ['full_attention'] },
      'bad-file',
      'config.json: layer_types must list "full_attention" or "sliding_attention" for each of the 18 layers, got ["full_attention"]',
    ],
    [
      'an unknown key inside rope_parameters',
      { ...llama32v5, rope_parameters: { rope_type: 'default', rope_theta: 10000, beta_fast: 32 } },
      'unsupported',
      "config.json: rope_parameters.beta_fast 32 is not supported: the studio does not know how it changes the model's computation",
    ],
    [
      'yarn in the new layout',
      { ...llama32v5, rope_parameters: { rope_type: 'yarn', rope_theta: 10000, factor: 4 } },
      'unsupported',
      'config.json: rope_parameters of type "yarn" is not supported (only "llama3" or none)',
    ],
    [
      'rope_theta disagreeing with rope_parameters',
      { ...llama32v5, rope_theta: 10000 },
      'bad-file',
      'config.json: rope_theta 10000 disagrees with rope_parameters (rope_theta 500000)',
    ],
    [
      'gemma rope_parameters without the sliding entry',
      { ...gemma3v5, rope_parameters: { full_attention: { rope_type: 'default', rope_theta: 1e6 } } },
      'bad-file',
      'config.json: rope_parameters.sliding_attention is missing',
    ],
    [
      'a nanotron interleaved rotation',
      { ...smolLM2, rope_interleaved: true },
      'unsupported',
      'config.json: rope_interleaved true is not supported (rotate-half RoPE only)',
    ],
  ];

  it.each(refused)('refuses %s', (_what, json, code, message) => {
    let error: unknown;
    try {
      parseConfig(JSON.parse(JSON.stringify(json)));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).code).toBe(code);
    expect((error as UserError).message).toBe(message);
  });

  it('names the file it was given', () => {
    expect(() => parseConfig({}, 'models/x/config.json')).toThrow('models/x/config.json: model_type is missing');
  });
});

describe('toHfConfig', () => {
  it.each([
    ['SmolLM2', smolLM2],
    ['Qwen2.5', qwen25],
    ['TinyLlama', tinyLlama],
    ['Llama 3.2', llama32],
    ['Mistral', mistral],
    ['llama with attention_bias', { ...smolLM2, attention_bias: true }],
    ['Qwen3', qwen3],
    ['Gemma 3', gemma3],
    ['Gemma 3, transformers 5 layout', gemma3v5],
    ['Gemma 3 with soft-caps', { ...gemma3, attn_logit_softcapping: 50, final_logit_softcapping: 30 }],
    ['Llama 3.2, transformers 5 layout', llama32v5],
  ])('round-trips %s', (_name, json) => {
    const config = parseConfig(json);
    const hf = JSON.parse(JSON.stringify(toHfConfig(config)));
    expect(parseConfig(hf)).toEqual(config);
  });

  it('merges extra fields', () => {
    expect(toHfConfig(parseConfig(smolLM2), { torch_dtype: 'bfloat16', transformers_version: '4.46.0' })).toMatchObject(
      { torch_dtype: 'bfloat16', transformers_version: '4.46.0' },
    );
  });
});

describe('countParameters', () => {
  // Published parameter counts of the real checkpoints (model cards / safetensors index totals).
  it.each([
    ['SmolLM2-135M', smolLM2, 134_515_008],
    ['Qwen2.5-0.5B', qwen25, 494_032_768],
    ['TinyLlama-1.1B', tinyLlama, 1_100_048_384],
    ['Llama-3.2-1B', llama32, 1_235_814_400],
    ['Qwen3-0.6B', qwen3, 596_049_920],
    ['Gemma-3-270M', gemma3, 268_098_176],
  ])('%s has its published parameter count', (name, json, expected) => {
    const config = parseConfig(json);
    expect(countParameters(config)).toBe(expected);
    expect(estimateMemoryBytes(config)).toBe(4 * expected);
    console.log(
      `${name}: ${countParameters(config)} parameters, ${(estimateMemoryBytes(config) / 2 ** 30).toFixed(2)} GiB in fp32`,
    );
  });
});
