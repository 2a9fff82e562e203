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
  ])('%s has its published parameter count', (name, json, expected) => {
    const config = parseConfig(json);
    expect(countParameters(config)).toBe(expected);
    expect(estimateMemoryBytes(config)).toBe(4 * expected);
    console.log(
      `${name}: ${countParameters(config)} parameters, ${(estimateMemoryBytes(config) / 2 ** 30).toFixed(2)} GiB in fp32`,
    );
  });
});
