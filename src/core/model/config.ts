/**
 * HuggingFace `config.json` ⇄ ModelConfig, for the LLaMA family the studio computes exactly:
 * llama (SmolLM, TinyLlama, Llama 3.x), mistral and qwen2. Everything the forward pass would get
 * wrong (another activation, rope type, sliding window, MLP bias, quantized weights) is refused
 * with a message naming the field and its value, rather than silently computing something else.
 * Defaults are HF's own (LlamaConfig, MistralConfig, Qwen2Config).
 */
import { describeJson } from '../describeJson';
import { UserError } from '../errors';
import type { Llama3RopeScaling, ModelConfig, ModelType, ModuleName } from './types';

const ARCHITECTURES: Record<ModelType, string> = {
  llama: 'LlamaForCausalLM',
  mistral: 'MistralForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
};

/** HF's class defaults for fields that real configs sometimes leave out. */
const DEFAULTS: Record<ModelType, { maxPositionEmbeddings: number; rmsNormEps: number; ropeTheta: number }> = {
  llama: { maxPositionEmbeddings: 2048, rmsNormEps: 1e-6, ropeTheta: 10000 },
  mistral: { maxPositionEmbeddings: 4096 * 32, rmsNormEps: 1e-6, ropeTheta: 10000 },
  qwen2: { maxPositionEmbeddings: 32768, rmsNormEps: 1e-6, ropeTheta: 10000 },
};

type Json = Record<string, unknown>;

class ConfigReader {
  constructor(
    readonly json: Json,
    readonly file: string,
  ) {}

  fail(code: 'bad-file' | 'unsupported', field: string, problem: string): never {
    throw new UserError(code, `${field} ${problem}`, this.file);
  }

  shown(field: string): string {
    return describeJson(this.json[field]);
  }

  has(field: string): boolean {
    return this.json[field] !== undefined && this.json[field] !== null;
  }

  positiveInt(field: string, fallback?: number): number {
    if (!this.has(field)) {
      if (fallback !== undefined) return fallback;
      this.fail('bad-file', field, 'is missing');
    }
    const v = this.json[field];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0)
      this.fail('bad-file', field, `must be a positive integer, got ${this.shown(field)}`);
    return v;
  }

  positiveNumber(field: string, fallback: number): number {
    if (!this.has(field)) return fallback;
    const v = this.json[field];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      this.fail('bad-file', field, `must be a positive number, got ${this.shown(field)}`);
    return v;
  }

  boolean(field: string, fallback: boolean): boolean {
    if (!this.has(field)) return fallback;
    const v = this.json[field];
    if (typeof v !== 'boolean') this.fail('bad-file', field, `must be true or false, got ${this.shown(field)}`);
    return v;
  }

  tokenIds(field: string): number[] {
    if (!this.has(field)) return [];
    const v = this.json[field];
    const ids = Array.isArray(v) ? v : [v];
    if (!ids.every((id) => typeof id === 'number' && Number.isSafeInteger(id) && id >= 0)) {
      this.fail('bad-file', field, `must be a token id or a list of token ids, got ${this.shown(field)}`);
    }
    return ids as number[];
  }
}

function parseModelType(r: ConfigReader): ModelType {
  const type = r.json.model_type;
  if (type === undefined) r.fail('bad-file', 'model_type', 'is missing');
  if (typeof type !== 'string' || !Object.hasOwn(ARCHITECTURES, type)) {
    r.fail('unsupported', 'model_type', `${r.shown('model_type')} is not supported (supported: llama, mistral, qwen2)`);
  }
  const modelType = type as ModelType;
  if (r.has('architectures')) {
    const archs = r.json.architectures;
    if (!Array.isArray(archs) || !archs.includes(ARCHITECTURES[modelType])) {
      r.fail(
        'unsupported',
        'architectures',
        `${r.shown('architectures')} is not supported for model_type "${modelType}" (expected ["${ARCHITECTURES[modelType]}"])`,
      );
    }
  }
  return modelType;
}

function parseRopeScaling(r: ConfigReader): Llama3RopeScaling | null {
  if (!r.has('rope_scaling')) return null;
  const s = r.json.rope_scaling;
  if (typeof s !== 'object' || s === null || Array.isArray(s))
    r.fail('bad-file', 'rope_scaling', `must be an object or null, got ${r.shown('rope_scaling')}`);
  const scaling = s as Json;
  const type = scaling.rope_type ?? scaling.type;
  if (type === 'default') return null; // HF's name for plain RoPE
  if (type !== 'llama3') {
    r.fail('unsupported', 'rope_scaling', `of type ${describeJson(type)} is not supported (only "llama3" or none)`);
  }
  const positive = (key: string): number => {
    const v = scaling[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      r.fail('bad-file', `rope_scaling.${key}`, `must be a positive number, got ${describeJson(v)}`);
    return v;
  };
  const scalingConfig: Llama3RopeScaling = {
    type: 'llama3',
    factor: positive('factor'),
    lowFreqFactor: positive('low_freq_factor'),
    highFreqFactor: positive('high_freq_factor'),
    originalMaxPositionEmbeddings: positive('original_max_position_embeddings'),
  };
  if (!(scalingConfig.highFreqFactor > scalingConfig.lowFreqFactor)) {
    r.fail(
      'bad-file',
      'rope_scaling.high_freq_factor',
      `must exceed low_freq_factor, got ${scalingConfig.highFreqFactor} ≤ ${scalingConfig.lowFreqFactor}`,
    );
  }
  return scalingConfig;
}

/** Fields whose non-default values change the computation in ways the studio does not implement. */
function refuseUnsupported(r: ConfigReader, modelType: ModelType, maxPositionEmbeddings: number): void {
  const act = r.json.hidden_act ?? 'silu';
  if (act !== 'silu') r.fail('unsupported', 'hidden_act', `${describeJson(act)} is not supported (only "silu")`);
  if (r.json.mlp_bias === true)
    r.fail('unsupported', 'mlp_bias', 'true is not supported (MLP layers without bias only)');
  if (r.has('quantization_config'))
    r.fail(
      'unsupported',
      'quantization_config',
      'is present: quantized checkpoints are not supported (use float32, float16 or bfloat16 weights)',
    );
  if (r.has('partial_rotary_factor') && r.json.partial_rotary_factor !== 1) {
    r.fail(
      'unsupported',
      'partial_rotary_factor',
      `${r.shown('partial_rotary_factor')} is not supported (rotary over the full head only)`,
    );
  }
  if (modelType === 'qwen2' && r.json.use_sliding_window === true) {
    r.fail('unsupported', 'use_sliding_window', 'true is not supported (the studio computes full attention)');
  }
  if (modelType === 'mistral' && r.has('sliding_window')) {
    const window = r.json.sliding_window;
    if (typeof window !== 'number' || window < maxPositionEmbeddings) {
      r.fail(
        'unsupported',
        'sliding_window',
        `${r.shown('sliding_window')} is not supported: the studio computes full attention, so it must be null or at least max_position_embeddings (${maxPositionEmbeddings})`,
      );
    }
  }
}

/** Reads a HuggingFace config.json (already JSON-parsed) into a ModelConfig, or explains why not. */
export function parseConfig(json: unknown, file = 'config.json'): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new UserError('bad-file', 'must be a JSON object', file);
  }
  const r = new ConfigReader(json as Json, file);
  const modelType = parseModelType(r);
  const defaults = DEFAULTS[modelType];

  const hiddenSize = r.positiveInt('hidden_size');
  const numHeads = r.positiveInt('num_attention_heads');
  const numKvHeads = r.positiveInt('num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) {
    r.fail('bad-file', 'num_key_value_heads', `${numKvHeads} must divide num_attention_heads (${numHeads})`);
  }
  if (!r.has('head_dim') && hiddenSize % numHeads !== 0) {
    r.fail(
      'bad-file',
      'hidden_size',
      `${hiddenSize} is not divisible by num_attention_heads (${numHeads}) and head_dim is not given`,
    );
  }
  const headDim = r.positiveInt('head_dim', hiddenSize / numHeads);
  const maxPositionEmbeddings = r.positiveInt('max_position_embeddings', defaults.maxPositionEmbeddings);
  refuseUnsupported(r, modelType, maxPositionEmbeddings);

  const bos = r.tokenIds('bos_token_id');
  if (bos.length > 1) r.fail('bad-file', 'bos_token_id', `must be a single token id, got ${r.shown('bos_token_id')}`);

  return {
    modelType,
    vocabSize: r.positiveInt('vocab_size'),
    hiddenSize,
    intermediateSize: r.positiveInt('intermediate_size'),
    numLayers: r.positiveInt('num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: r.positiveNumber('rms_norm_eps', defaults.rmsNormEps),
    ropeTheta: r.positiveNumber('rope_theta', defaults.ropeTheta),
    ropeScaling: parseRopeScaling(r),
    maxPositionEmbeddings,
    tieWordEmbeddings: r.boolean('tie_word_embeddings', false),
    // Qwen2 always has q/k/v biases; Mistral never; Llama when attention_bias (then o_proj too).
    attentionBias: modelType === 'qwen2' ? true : modelType === 'llama' ? r.boolean('attention_bias', false) : false,
    bosTokenId: bos.length === 1 ? bos[0] : null,
    eosTokenIds: r.tokenIds('eos_token_id'),
  };
}

/**
 * The linear modules that carry a bias, as in HF's modules: Qwen2 q/k/v; Llama with
 * attention_bias q/k/v and o_proj; otherwise none.
 */
export function biasedModules(config: ModelConfig): ModuleName[] {
  if (!config.attentionBias) return [];
  return config.modelType === 'llama' ? ['q_proj', 'k_proj', 'v_proj', 'o_proj'] : ['q_proj', 'k_proj', 'v_proj'];
}

/** A HF config.json object that parseConfig reads back as the same ModelConfig. */
export function toHfConfig(config: ModelConfig, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const c = config;
  const rope = c.ropeScaling;
  const hf: Record<string, unknown> = {
    architectures: [ARCHITECTURES[c.modelType]],
    model_type: c.modelType,
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    hidden_act: 'silu',
    max_position_embeddings: c.maxPositionEmbeddings,
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    rope_scaling: rope && {
      rope_type: 'llama3',
      factor: rope.factor,
      low_freq_factor: rope.lowFreqFactor,
      high_freq_factor: rope.highFreqFactor,
      original_max_position_embeddings: rope.originalMaxPositionEmbeddings,
    },
    tie_word_embeddings: c.tieWordEmbeddings,
    bos_token_id: c.bosTokenId,
    eos_token_id:
      c.eosTokenIds.length === 0 ? null : c.eosTokenIds.length === 1 ? c.eosTokenIds[0] : [...c.eosTokenIds],
    torch_dtype: 'float32',
  };
  if (c.modelType === 'llama') Object.assign(hf, { attention_bias: c.attentionBias, mlp_bias: false });
  if (c.modelType === 'mistral') hf.sliding_window = null;
  if (c.modelType === 'qwen2') hf.use_sliding_window = false;
  return { ...hf, ...extra };
}

/** Number of parameters of the model, counting a tied lm_head once. */
export function countParameters(config: ModelConfig): number {
  const { vocabSize: V, hiddenSize: D, intermediateSize: F, numHeads: H, numKvHeads: Hkv, headDim: hd } = config;
  const attention = D * H * hd + 2 * D * Hkv * hd + H * hd * D; // q, k, v, o
  const mlp = 3 * D * F; // gate, up, down
  const biases = biasedModules(config).reduce(
    (n, m) => n + (m === 'k_proj' || m === 'v_proj' ? Hkv * hd : m === 'q_proj' ? H * hd : D),
    0,
  );
  const layer = attention + mlp + biases + 2 * D; // + two RMSNorm weights
  return V * D + config.numLayers * layer + D + (config.tieWordEmbeddings ? 0 : V * D);
}

/** Bytes the weights take in float32, the precision the studio computes in. */
export function estimateMemoryBytes(config: ModelConfig): number {
  return 4 * countParameters(config);
}
