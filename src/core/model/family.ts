/**
 * What sets each model family apart from plain LLaMA, in one table, so the forward pass asks
 * named questions ("are q and k normed per head?") instead of testing model types. Read from
 * HF transformers' modeling and configuration code of each family; testing/referenceLlama.ts is
 * the float64 reference the tests hold it to.
 *
 *   llama, mistral, qwen2   embed → L × [x + attn(norm(x)); x + mlp(norm(x))] → norm → lm_head
 *   qwen3                   as llama, with q and k RMS-normed per head before RoPE
 *   gemma3_text             embed·√D → L × [x + norm(attn(norm(x))); x + norm(mlp(norm(x)))] → norm
 *                           → lm_head (→ soft-cap); norms are (1 + w), q/k normed per head, GeGLU
 *                           (tanh GELU), sliding-window layers with their own RoPE base
 */
import type { ExtraNormName, LayerType, ModelConfig, ModelType, ModuleName } from './types';

export interface FamilySpec {
  /** The HF class in config.json `architectures`. */
  architecture: string;
  /** HF's class defaults for fields that real configs sometimes leave out. */
  defaults: {
    maxPositionEmbeddings: number;
    rmsNormEps: number;
    ropeTheta: number;
    tieWordEmbeddings: boolean;
    /** null: hidden_size / num_attention_heads. */
    headDim: number | null;
  };
  /** RMSNorm weights are stored zero-centred and multiply as (1 + w), in float32 (Gemma3RMSNorm). */
  normPlusOne: boolean;
  /** The embedding lookup is multiplied by √D rounded to float32 (Gemma3TextScaledWordEmbedding). */
  scaledEmbedding: boolean;
  /**
   * post_attention_layernorm norms the attention's output and pre/post_feedforward_layernorm wrap
   * the MLP (Gemma's sandwich); otherwise post_attention_layernorm is the MLP's input norm.
   */
  sandwichNorms: boolean;
  /** q and k are RMS-normed per head (one [hd] weight shared by all heads) before RoPE. */
  qkNorm: boolean;
  /** The MLP's gate activation, by its HF name: SwiGLU or GeGLU with the tanh GELU. */
  activation: 'silu' | 'gelu_pytorch_tanh';
  /** attention_bias: always on (qwen2), never (mistral), or as the config says. */
  attentionBias: boolean | 'config';
  /** The linears that carry a bias when attention_bias is on. */
  biasedModules: readonly ModuleName[];
}

const LLAMA_DEFAULTS = { rmsNormEps: 1e-6, ropeTheta: 10000, tieWordEmbeddings: false, headDim: null };
const QKV: readonly ModuleName[] = ['q_proj', 'k_proj', 'v_proj'];
const QKVO: readonly ModuleName[] = ['q_proj', 'k_proj', 'v_proj', 'o_proj'];
const LLAMA_SHAPE = {
  normPlusOne: false,
  scaledEmbedding: false,
  sandwichNorms: false,
  qkNorm: false,
  activation: 'silu',
} as const;

export const FAMILIES: Record<ModelType, FamilySpec> = {
  llama: {
    ...LLAMA_SHAPE,
    architecture: 'LlamaForCausalLM',
    defaults: { ...LLAMA_DEFAULTS, maxPositionEmbeddings: 2048 },
    attentionBias: 'config',
    biasedModules: QKVO,
  },
  mistral: {
    ...LLAMA_SHAPE,
    architecture: 'MistralForCausalLM',
    defaults: { ...LLAMA_DEFAULTS, maxPositionEmbeddings: 4096 * 32 },
    attentionBias: false,
    biasedModules: [],
  },
  qwen2: {
    ...LLAMA_SHAPE,
    architecture: 'Qwen2ForCausalLM',
    defaults: { ...LLAMA_DEFAULTS, maxPositionEmbeddings: 32768 },
    attentionBias: true,
    biasedModules: QKV,
  },
  qwen3: {
    ...LLAMA_SHAPE,
    qkNorm: true,
    architecture: 'Qwen3ForCausalLM',
    defaults: { ...LLAMA_DEFAULTS, maxPositionEmbeddings: 32768, headDim: 128 },
    attentionBias: 'config',
    biasedModules: QKVO,
  },
  gemma3_text: {
    architecture: 'Gemma3ForCausalLM',
    defaults: {
      maxPositionEmbeddings: 131072,
      rmsNormEps: 1e-6,
      ropeTheta: 1e6,
      tieWordEmbeddings: true,
      headDim: 256,
    },
    normPlusOne: true,
    scaledEmbedding: true,
    sandwichNorms: true,
    qkNorm: true,
    activation: 'gelu_pytorch_tanh',
    attentionBias: 'config',
    biasedModules: QKVO,
  },
};

export function familyOf(config: Pick<ModelConfig, 'modelType'>): FamilySpec {
  return FAMILIES[config.modelType];
}

/** The extra per-layer norms a family's checkpoint holds, with their length. */
export function extraNorms(config: ModelConfig): { name: ExtraNormName; size: number }[] {
  const family = familyOf(config);
  const norms: { name: ExtraNormName; size: number }[] = [];
  if (family.qkNorm)
    norms.push({ name: 'self_attn.q_norm', size: config.headDim }, { name: 'self_attn.k_norm', size: config.headDim });
  if (family.sandwichNorms)
    norms.push(
      { name: 'pre_feedforward_layernorm', size: config.hiddenSize },
      { name: 'post_feedforward_layernorm', size: config.hiddenSize },
    );
  return norms;
}

/** A layer's attention span: full, or sliding over the last `slidingWindow` positions. */
export function layerType(config: ModelConfig, layer: number): LayerType {
  return config.layerTypes?.[layer] ?? 'full_attention';
}

/** The softmax scale of the attention scores. */
export function attentionScale(config: ModelConfig): number {
  return 1 / Math.sqrt(config.queryPreAttnScalar ?? config.headDim);
}

/** Gemma's embedding scale: √D as a float32 (HF keeps it in a float32 buffer cast to the weights' dtype). */
export function embeddingScale(config: ModelConfig): number | null {
  return familyOf(config).scaledEmbedding ? Math.fround(Math.sqrt(config.hiddenSize)) : null;
}
