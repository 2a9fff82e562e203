/**
 * HuggingFace `config.json` ⇄ ModelConfig, for the families the studio computes exactly: llama
 * (SmolLM, TinyLlama, Llama 3.x), mistral, qwen2, qwen3 and gemma3_text (family.ts says how they
 * differ). Both layouts are read: transformers ≥ 5 (`rope_parameters`, `layer_types`) and the
 * older one (`rope_theta`, `rope_scaling`, gemma's `rope_local_base_freq`, `sliding_window_pattern`).
 *
 * No silent field: every key is read and checked here, listed in configKeys.ts as not changing
 * the computation, or refused with a message naming it and its value. Defaults are HF's own.
 */
import { describeJson } from '../describeJson';
import { UserError } from '../errors';
import { INERT_CONFIG_KEYS } from './configKeys';
import { extraNorms, FAMILIES, familyOf } from './family';
import type { LayerType, Llama3RopeScaling, ModelConfig, ModelType, ModuleName } from './types';

type Json = Record<string, unknown>;

/** Reads fields of one JSON object, remembering which it read so the rest can be refused. */
class ConfigReader {
  readonly read = new Set<string>();

  constructor(
    readonly json: Json,
    readonly file: string,
    /** How fields are named in messages: '' at the top, 'rope_scaling.' inside an object. */
    readonly prefix = '',
  ) {}

  fail(code: 'bad-file' | 'unsupported', field: string, problem: string): never {
    throw new UserError(code, `${this.prefix}${field} ${problem}`, this.file);
  }

  get(field: string): unknown {
    this.read.add(field);
    return this.json[field];
  }

  shown(field: string): string {
    return describeJson(this.json[field]);
  }

  has(field: string): boolean {
    const v = this.get(field);
    return v !== undefined && v !== null;
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

  positiveNumber(field: string, fallback: number): number;
  positiveNumber(field: string, fallback: null): number | null;
  positiveNumber(field: string, fallback: number | null): number | null {
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

  /** The field must be absent, null or `value`: anything else changes what HF computes. */
  only(field: string, value: unknown, why: string): void {
    if (this.has(field) && this.json[field] !== value)
      this.fail('unsupported', field, `${this.shown(field)} is not supported (${why})`);
  }

  /** A nested object (rope_scaling, rope_parameters), or null when absent. */
  object(field: string): ConfigReader | null {
    if (!this.has(field)) return null;
    const v = this.json[field];
    if (typeof v !== 'object' || Array.isArray(v))
      this.fail('bad-file', field, `must be an object or null, got ${this.shown(field)}`);
    return new ConfigReader(v as Json, this.file, `${this.prefix}${field}.`);
  }

  /** Refuses every key neither read nor in `inert`: one line naming the key and its value. */
  refuseUnread(inert: ReadonlySet<string>): void {
    for (const key of Object.keys(this.json)) {
      if (this.read.has(key) || inert.has(key)) continue;
      this.fail(
        'unsupported',
        key,
        `${this.shown(key)} is not supported: the studio does not know how it changes the model's computation`,
      );
    }
  }
}

function parseModelType(r: ConfigReader): ModelType {
  const type = r.get('model_type');
  if (type === undefined) r.fail('bad-file', 'model_type', 'is missing');
  if (typeof type !== 'string' || !Object.hasOwn(FAMILIES, type)) {
    r.fail(
      'unsupported',
      'model_type',
      `${r.shown('model_type')} is not supported (supported: ${Object.keys(FAMILIES).join(', ')})`,
    );
  }
  const modelType = type as ModelType;
  const expected = FAMILIES[modelType].architecture;
  if (r.has('architectures')) {
    const archs = r.json.architectures;
    if (!Array.isArray(archs) || !archs.includes(expected)) {
      r.fail(
        'unsupported',
        'architectures',
        `${r.shown('architectures')} is not supported for model_type "${modelType}" (expected ["${expected}"])`,
      );
    }
  }
  return modelType;
}

/** RoPE of one attention kind: its base and its llama3 scaling (null: plain RoPE). */
interface Rope {
  theta: number;
  scaling: Llama3RopeScaling | null;
}

/**
 * One RoPE parameter object: the old `rope_scaling` (theta given apart) or a transformers ≥ 5
 * `rope_parameters` entry (theta inside). Types other than default and llama3 are refused.
 */
function parseRopeObject(r: ConfigReader, fallbackTheta: number | null): Rope {
  const [ropeType, oldType] = [r.get('rope_type'), r.get('type')]; // HF reads either name
  const type = ropeType ?? oldType ?? 'default';
  const theta =
    fallbackTheta === null ? r.positiveNumber('rope_theta', 0) : r.positiveNumber('rope_theta', fallbackTheta);
  if (theta === 0) r.fail('bad-file', 'rope_theta', 'is missing');
  if (type === 'default') {
    r.refuseUnread(new Set());
    return { theta, scaling: null };
  }
  if (type !== 'llama3') {
    throw new UserError(
      'unsupported',
      `${r.prefix.slice(0, -1)} of type ${describeJson(type)} is not supported (only "llama3" or none)`,
      r.file,
    );
  }
  const positive = (key: string): number => {
    const v = r.get(key);
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      r.fail('bad-file', key, `must be a positive number, got ${describeJson(v)}`);
    return v;
  };
  const scaling: Llama3RopeScaling = {
    type: 'llama3',
    factor: positive('factor'),
    lowFreqFactor: positive('low_freq_factor'),
    highFreqFactor: positive('high_freq_factor'),
    originalMaxPositionEmbeddings: positive('original_max_position_embeddings'),
  };
  if (!(scaling.highFreqFactor > scaling.lowFreqFactor)) {
    r.fail(
      'bad-file',
      'high_freq_factor',
      `must exceed low_freq_factor, got ${scaling.highFreqFactor} ≤ ${scaling.lowFreqFactor}`,
    );
  }
  r.refuseUnread(new Set());
  return { theta, scaling };
}

/**
 * RoPE of full-attention layers and of sliding ones. transformers ≥ 5 keeps it in
 * `rope_parameters` (one object, or for gemma3_text one per layer type); older configs in
 * `rope_theta` + `rope_scaling` (+ gemma's `rope_local_base_freq` for sliding layers, plain RoPE).
 */
function parseRope(r: ConfigReader, modelType: ModelType): { full: Rope; sliding: Rope } {
  const defaultTheta = FAMILIES[modelType].defaults.ropeTheta;
  const params = r.object('rope_parameters');
  const oldTheta = r.positiveNumber('rope_theta', null);
  const oldScaling = r.object('rope_scaling');
  const localBase = modelType === 'gemma3_text' ? r.positiveNumber('rope_local_base_freq', null) : null;
  if (params === null) {
    const full = oldScaling
      ? parseRopeObject(oldScaling, oldTheta ?? defaultTheta)
      : { theta: oldTheta ?? defaultTheta, scaling: null };
    return { full, sliding: { theta: localBase ?? 10000, scaling: null } };
  }
  // The new layout says it all; an old field beside it must agree, or which one HF uses is a guess.
  let full: Rope;
  let sliding: Rope;
  if (modelType === 'gemma3_text') {
    const perKind: ConfigReader = params;
    const entry = (kind: LayerType): Rope => {
      const e = perKind.object(kind);
      if (e === null) perKind.fail('bad-file', kind, 'is missing');
      return parseRopeObject(e, null);
    };
    full = entry('full_attention');
    sliding = entry('sliding_attention');
    params.refuseUnread(new Set());
    if (sliding.scaling) r.fail('unsupported', 'rope_parameters.sliding_attention', 'with scaling is not supported');
    if (localBase !== null && localBase !== sliding.theta)
      r.fail(
        'bad-file',
        'rope_local_base_freq',
        `${localBase} disagrees with rope_parameters.sliding_attention.rope_theta (${sliding.theta})`,
      );
  } else {
    full = parseRopeObject(params, null);
    sliding = full;
  }
  if (oldTheta !== null && oldTheta !== full.theta)
    r.fail('bad-file', 'rope_theta', `${oldTheta} disagrees with rope_parameters (rope_theta ${full.theta})`);
  if (oldScaling !== null) {
    const old = parseRopeObject(oldScaling, full.theta);
    if (JSON.stringify(old.scaling) !== JSON.stringify(full.scaling))
      r.fail('bad-file', 'rope_scaling', `${r.shown('rope_scaling')} disagrees with rope_parameters`);
  }
  return { full, sliding };
}

const LAYER_TYPES: readonly LayerType[] = ['full_attention', 'sliding_attention'];

/**
 * Which layers slide, and over how many positions. gemma3_text: `layer_types`, else HF's
 * pattern (every `sliding_window_pattern`-th layer full); the others compute full attention
 * only, so a sliding layer that could bind is refused.
 */
function parseAttentionSpans(
  r: ConfigReader,
  modelType: ModelType,
  numLayers: number,
  maxPositionEmbeddings: number,
): { layerTypes?: LayerType[]; slidingWindow?: number } {
  let layerTypes: LayerType[] | undefined;
  if (r.has('layer_types')) {
    const v = r.json.layer_types;
    if (!Array.isArray(v) || v.length !== numLayers || !v.every((t) => LAYER_TYPES.includes(t as LayerType)))
      r.fail(
        'bad-file',
        'layer_types',
        `must list "full_attention" or "sliding_attention" for each of the ${numLayers} layers, got ${r.shown('layer_types')}`,
      );
    layerTypes = v as LayerType[];
  }
  if (modelType === 'gemma3_text') {
    const pattern = r.has('sliding_window_pattern')
      ? r.positiveInt('sliding_window_pattern')
      : r.positiveInt('_sliding_window_pattern', 6);
    layerTypes ??= Array.from({ length: numLayers }, (_, i) =>
      (i + 1) % pattern !== 0 ? 'sliding_attention' : 'full_attention',
    );
    return { layerTypes, slidingWindow: r.positiveInt('sliding_window', 4096) };
  }
  if (layerTypes?.some((t) => t === 'sliding_attention'))
    r.fail(
      'unsupported',
      'layer_types',
      `${r.shown('layer_types')} is not supported for model_type "${modelType}" (full attention only)`,
    );
  if (modelType === 'qwen2' || modelType === 'qwen3') {
    r.only('use_sliding_window', false, 'the studio computes full attention');
    r.get('sliding_window'); // used by HF only with use_sliding_window
    r.get('max_window_layers');
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
  return {};
}

/** Fields whose other values change the computation in ways the studio does not implement. */
function refuseUnsupported(r: ConfigReader, modelType: ModelType): void {
  const family = familyOf({ modelType });
  if (family.activation === 'silu') {
    const act = r.get('hidden_act') ?? 'silu';
    if (act !== 'silu') r.fail('unsupported', 'hidden_act', `${describeJson(act)} is not supported (only "silu")`);
  } else {
    // Gemma3MLP reads hidden_activation; hidden_act is a leftover HF ignores.
    r.get('hidden_act');
    r.only('hidden_activation', family.activation, `only "${family.activation}"`);
  }
  if (r.get('mlp_bias') === true)
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
  // Dropout would act only while training, where the studio has none.
  r.only('attention_dropout', 0, 'the studio trains without dropout');
  // A nanotron export flag transformers ignores; true would mean the weights expect another rotation.
  r.only('rope_interleaved', false, 'rotate-half RoPE only');
  if (modelType === 'gemma3_text')
    r.only('use_bidirectional_attention', false, 'causal attention only (EmbeddingGemma is not a causal LM)');
}

/** gemma3_text's attention scale and soft-capping, as Gemma3Attention / Gemma3ForCausalLM apply them. */
function parseGemmaScalars(r: ConfigReader): Partial<ModelConfig> {
  const capping = (field: string) => r.positiveNumber(field, null) ?? undefined;
  return {
    queryPreAttnScalar: r.positiveNumber('query_pre_attn_scalar', 256),
    attnLogitSoftcapping: capping('attn_logit_softcapping'),
    finalLogitSoftcapping: capping('final_logit_softcapping'),
  };
}

/** Reads a HuggingFace config.json (already JSON-parsed) into a ModelConfig, or explains why not. */
export function parseConfig(json: unknown, file = 'config.json'): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new UserError('bad-file', 'must be a JSON object', file);
  }
  const r = new ConfigReader(json as Json, file);
  const modelType = parseModelType(r);
  const family = FAMILIES[modelType];
  const defaults = family.defaults;

  const hiddenSize = r.positiveInt('hidden_size');
  const numHeads = r.positiveInt('num_attention_heads');
  const numKvHeads = r.positiveInt('num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) {
    r.fail('bad-file', 'num_key_value_heads', `${numKvHeads} must divide num_attention_heads (${numHeads})`);
  }
  if (!r.has('head_dim') && defaults.headDim === null && hiddenSize % numHeads !== 0) {
    r.fail(
      'bad-file',
      'hidden_size',
      `${hiddenSize} is not divisible by num_attention_heads (${numHeads}) and head_dim is not given`,
    );
  }
  const headDim = r.positiveInt('head_dim', defaults.headDim ?? hiddenSize / numHeads);
  if (headDim % 2 !== 0) r.fail('bad-file', 'head_dim', `${headDim} must be even (RoPE rotates pairs)`);
  const numLayers = r.positiveInt('num_hidden_layers');
  const maxPositionEmbeddings = r.positiveInt('max_position_embeddings', defaults.maxPositionEmbeddings);
  refuseUnsupported(r, modelType);
  const rope = parseRope(r, modelType);
  const spans = parseAttentionSpans(r, modelType, numLayers, maxPositionEmbeddings);

  const bos = r.tokenIds('bos_token_id');
  if (bos.length > 1) r.fail('bad-file', 'bos_token_id', `must be a single token id, got ${r.shown('bos_token_id')}`);

  const config: ModelConfig = {
    modelType,
    vocabSize: r.positiveInt('vocab_size'),
    hiddenSize,
    intermediateSize: r.positiveInt('intermediate_size'),
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: r.positiveNumber('rms_norm_eps', defaults.rmsNormEps),
    ropeTheta: rope.full.theta,
    ropeScaling: rope.full.scaling,
    maxPositionEmbeddings,
    tieWordEmbeddings: r.boolean('tie_word_embeddings', defaults.tieWordEmbeddings),
    attentionBias: family.attentionBias === 'config' ? r.boolean('attention_bias', false) : family.attentionBias,
    bosTokenId: bos.length === 1 ? bos[0] : null,
    eosTokenIds: r.tokenIds('eos_token_id'),
  };
  if (family.attentionBias !== 'config') r.get('attention_bias'); // fixed by the family, whatever it says
  if (modelType === 'gemma3_text') {
    Object.assign(config, spans, parseGemmaScalars(r), { localRopeTheta: rope.sliding.theta });
  }
  r.refuseUnread(INERT_CONFIG_KEYS);
  return config;
}

/** The linear modules that carry a bias, as in HF's modules (family.ts `biasedModules`). */
export function biasedModules(config: ModelConfig): ModuleName[] {
  return config.attentionBias ? [...familyOf(config).biasedModules] : [];
}

/** A HF config.json object (the older layout) that parseConfig reads back as the same ModelConfig. */
export function toHfConfig(config: ModelConfig, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const c = config;
  const family = familyOf(c);
  const rope = c.ropeScaling;
  const hf: Record<string, unknown> = {
    architectures: [family.architecture],
    model_type: c.modelType,
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    [family.activation === 'silu' ? 'hidden_act' : 'hidden_activation']: family.activation,
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
  if (family.attentionBias === 'config') hf.attention_bias = c.attentionBias;
  if (c.modelType === 'llama') hf.mlp_bias = false;
  if (c.modelType === 'mistral') hf.sliding_window = null;
  if (c.modelType === 'qwen2' || c.modelType === 'qwen3') hf.use_sliding_window = false;
  if (c.modelType === 'gemma3_text') {
    Object.assign(hf, {
      layer_types: c.layerTypes,
      sliding_window: c.slidingWindow,
      rope_local_base_freq: c.localRopeTheta,
      query_pre_attn_scalar: c.queryPreAttnScalar,
      attn_logit_softcapping: c.attnLogitSoftcapping ?? null,
      final_logit_softcapping: c.finalLogitSoftcapping ?? null,
    });
  }
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
  const norms = 2 * D + extraNorms(config).reduce((n, norm) => n + norm.size, 0);
  const layer = attention + mlp + biases + norms;
  return V * D + config.numLayers * layer + D + (config.tieWordEmbeddings ? 0 : V * D);
}

/** Bytes the weights take in float32, the precision the studio computes in. */
export function estimateMemoryBytes(config: ModelConfig): number {
  return 4 * countParameters(config);
}
