/**
 * The PEFT-LoRA file pair (`adapter_config.json` + `adapter_model.safetensors`) and the exact
 * LoRA form of an S²FT adapter (paper §6, "exact LoRA interop"):
 *
 *   column block (o_proj, down_proj):  ΔW[:, J] = S        ⇔  lora_B = S [out, k],  lora_A = one-hot(J) [k, in]
 *   row block    (v_proj, up_proj):    ΔW[I, :] = S        ⇔  lora_B = one-hot(I) [out, k],  lora_A = S [k, in]
 *
 * with rank k and lora_alpha = k per module (scale alpha / r = 1), given through PEFT's
 * `rank_pattern` / `alpha_pattern`. The product B·A has exactly one nonzero term per element, so
 * the exported ΔW equals the native one bit for bit.
 *
 * target_modules names exactly the adapted linears: a module's short name (`o_proj`) when every
 * layer adapts it, else one `layers.{i}.self_attn.o_proj` entry per layer that does (PEFT matches
 * a list entry as a ".entry" suffix), so PEFT wraps no linear the file has no weights for. The
 * safetensors metadata also records the base model's name and fingerprint, which this studio
 * checks when it loads the file back (peft/loraAdapter.ts) and PEFT ignores.
 */
import { strToU8, zipSync } from 'fflate';
import { writeSafetensors, type TensorEntry } from '../io/safetensors';
import { linearWeightName, type ModuleName } from '../model/types';
import { moduleShape, type AdapterInfo } from './adapter';
import type { FuseBlock } from './fuse';

export const PEFT_CONFIG_FILE = 'adapter_config.json';
export const PEFT_WEIGHTS_FILE = 'adapter_model.safetensors';
export type PeftFiles = Record<typeof PEFT_CONFIG_FILE | typeof PEFT_WEIGHTS_FILE, Uint8Array>;
/** Safetensors metadata keys for the base model the adapter was made for. */
export const PEFT_BASE_NAME_KEY = 's2ft_base_model';
export const PEFT_BASE_FINGERPRINT_KEY = 's2ft_base_fingerprint';

/** One LoRA-adapted linear: ΔW = (alpha / r) · B · A. */
export interface PeftLoraModule {
  layer: number;
  module: ModuleName;
  r: number;
  alpha: number;
  A: Float32Array; // [r, in]
  B: Float32Array; // [out, r]
  inDim: number;
  outDim: number;
}

export interface PeftLoraSpec {
  baseModel: { name: string; fingerprint: string };
  numLayers: number;
  /** Default rank and alpha; modules that differ are listed in rank_pattern / alpha_pattern. */
  r: number;
  alpha: number;
  dropout: number;
  modules: PeftLoraModule[];
}

/** Tensor-name prefix PEFT gives a module of a LlamaForCausalLM wrapped in a PeftModel. */
export function peftModulePrefix(layer: number, module: ModuleName): string {
  return `base_model.model.${linearWeightName(layer, module)}`;
}

/**
 * The rank_pattern / alpha_pattern key of a module. PEFT matches keys as regexes against module
 * names like `model.layers.3.self_attn.o_proj`: older releases require a dot before the key
 * (`.*\.{key}$`), newer ones accept an optional prefix (`(.*\.)?{key}$`). Dropping the leading
 * `model.` satisfies both, and `layers.3.` cannot match `layers.13.`.
 */
export function peftPatternKey(layer: number, module: ModuleName): string {
  return linearWeightName(layer, module).replace(/^model\./, '');
}

/** target_modules naming exactly the adapted linears (see the header). */
export function peftTargetModules(modules: { layer: number; module: ModuleName }[], numLayers: number): string[] {
  const layersOf = new Map<ModuleName, Set<number>>();
  for (const m of modules) layersOf.set(m.module, (layersOf.get(m.module) ?? new Set()).add(m.layer));
  return [...layersOf].flatMap(([module, layers]) =>
    layers.size === numLayers
      ? [module]
      : [...layers].sort((a, b) => a - b).map((layer) => peftPatternKey(layer, module)),
  );
}

export function encodePeftLora(spec: PeftLoraSpec): PeftFiles {
  const rankPattern: Record<string, number> = {};
  const alphaPattern: Record<string, number> = {};
  const entries: TensorEntry[] = [];
  for (const m of spec.modules) {
    const prefix = peftModulePrefix(m.layer, m.module);
    entries.push({ name: `${prefix}.lora_A.weight`, dtype: 'F32', shape: [m.r, m.inDim], data: m.A });
    entries.push({ name: `${prefix}.lora_B.weight`, dtype: 'F32', shape: [m.outDim, m.r], data: m.B });
    if (m.r !== spec.r) rankPattern[peftPatternKey(m.layer, m.module)] = m.r;
    if (m.alpha !== spec.alpha) alphaPattern[peftPatternKey(m.layer, m.module)] = m.alpha;
  }
  // Only fields PEFT has accepted since rank_pattern appeared (0.6), so old releases load it too.
  const config = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: spec.baseModel.name,
    r: spec.r,
    lora_alpha: spec.alpha,
    lora_dropout: spec.dropout,
    target_modules: peftTargetModules(spec.modules, spec.numLayers),
    rank_pattern: rankPattern,
    alpha_pattern: alphaPattern,
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    modules_to_save: null,
    layers_to_transform: null,
    layers_pattern: null,
    revision: null,
  };
  return {
    [PEFT_CONFIG_FILE]: strToU8(JSON.stringify(config, null, 2)),
    [PEFT_WEIGHTS_FILE]: writeSafetensors(entries, {
      format: 'pt',
      [PEFT_BASE_NAME_KEY]: spec.baseModel.name,
      [PEFT_BASE_FINGERPRINT_KEY]: spec.baseModel.fingerprint,
    }),
  };
}

/**
 * The exact PEFT-LoRA form of an S²FT adapter, or of any blocks on the model's linears (a fusion
 * with LoRA adapters): every module at scale alpha / r = 1, rank = the block's index count.
 */
export function exportPeftLora(adapter: {
  info: Pick<AdapterInfo, 'baseModel' | 'dims'>;
  blocks: readonly FuseBlock[];
}): PeftFiles {
  const modules: PeftLoraModule[] = adapter.blocks.map((b) => {
    const [outDim, inDim] = moduleShape(adapter.info.dims, b.module);
    const k = b.indices.length;
    if (b.axis === 'columns') {
      const A = new Float32Array(k * inDim); // [k, in] one-hot(J)
      b.indices.forEach((col, j) => {
        A[j * inDim + col] = 1;
      });
      return { layer: b.layer, module: b.module, r: k, alpha: k, A, B: b.delta, inDim, outDim };
    }
    const B = new Float32Array(outDim * k); // [out, k] one-hot(I)
    b.indices.forEach((row, j) => {
      B[row * k + j] = 1;
    });
    return { layer: b.layer, module: b.module, r: k, alpha: k, A: b.delta, B, inDim, outDim };
  });
  const r = Math.max(1, ...modules.map((m) => m.r));
  return encodePeftLora({
    baseModel: adapter.info.baseModel,
    numLayers: adapter.info.dims.numLayers,
    r,
    alpha: r,
    dropout: 0,
    modules,
  });
}

/** The two PEFT files in one zip, for a single browser download. */
export function peftZip(files: PeftFiles): Uint8Array {
  return zipSync({ [PEFT_CONFIG_FILE]: files[PEFT_CONFIG_FILE], [PEFT_WEIGHTS_FILE]: files[PEFT_WEIGHTS_FILE] });
}
