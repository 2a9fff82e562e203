/**
 * A PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors) as updates this studio
 * can fuse. For every linear the config adapts (loraTargets.ts):
 *
 *   base_model.model.{key}.lora_A.weight   [r, in]
 *   base_model.model.{key}.lora_B.weight   [out, r]
 *   ΔW = scaling · B · A                   [out, in], computed in float64 and rounded once
 *
 * and ΔW is handed to fuse.ts as the block of all `in` columns. A file this studio wrote also
 * records its base model's name and fingerprint in the safetensors metadata (s2ft/peft.ts), which
 * is then checked like a native adapter's; one from elsewhere is checked by its shapes only.
 */
import { UserError } from '../errors';
import { parseSafetensors } from '../io/safetensors';
import { linearShape } from '../model/init';
import type { ModelConfig, ModuleName } from '../model/types';
import { MAX_ADAPTER_BYTES, checkBaseFingerprint, type BaseModelId } from '../s2ft/adapter';
import type { FuseBlock } from '../s2ft/fuse';
import { PEFT_BASE_FINGERPRINT_KEY, PEFT_BASE_NAME_KEY } from '../s2ft/peft';
import { parseLoraConfig, type LoraConfig } from './loraConfig';
import { loraTargets } from './loraTargets';

export interface LoraPair {
  /** PEFT's module name, e.g. model.layers.3.self_attn.q_proj. */
  key: string;
  A: Float32Array; // [rank, in]
  B: Float32Array; // [out, rank]
  rank: number;
  inDim: number;
  outDim: number;
}

export interface PeftLoraAdapter {
  config: LoraConfig;
  pairs: Map<string, LoraPair>;
  /** The base model this studio recorded when it wrote the file, or null. */
  baseModel: { name: string; fingerprint: string } | null;
}

const PREFIX = 'base_model.model.';
const TENSOR_NAME = /^base_model\.model\.(.+)\.(lora_A|lora_B)\.weight$/;

export function decodePeftLora(configBytes: Uint8Array, weightBytes: Uint8Array, label: string): PeftLoraAdapter {
  const configLabel = `${label}/adapter_config.json`;
  const weightsLabel = `${label}/adapter_model.safetensors`;
  if (configBytes.length > 16 * 2 ** 20)
    throw new UserError('too-large', `is ${configBytes.length} bytes, too large for an adapter config`, configLabel);
  if (weightBytes.length > MAX_ADAPTER_BYTES)
    throw new UserError(
      'too-large',
      `is ${weightBytes.length} bytes, over the ${MAX_ADAPTER_BYTES / 2 ** 20} MiB limit`,
      weightsLabel,
    );
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(configBytes));
  } catch (e) {
    throw new UserError('bad-file', `is not valid JSON (${(e as Error).message})`, configLabel);
  }
  const config = parseLoraConfig(json, configLabel);
  const file = parseSafetensors(weightBytes, weightsLabel);
  const bad = (message: string) => new UserError('bad-file', message, weightsLabel);

  const halves = new Map<string, { A?: string; B?: string }>();
  for (const name of file.tensors.keys()) {
    const m = TENSOR_NAME.exec(name);
    if (!m) {
      const hint = /lora_magnitude_vector/.test(name)
        ? ' (a DoRA magnitude: DoRA is not supported)'
        : /lora_embedding/.test(name)
          ? ' (an embedding LoRA is not supported)'
          : name.startsWith(PREFIX)
            ? ''
            : ` (PEFT names LoRA tensors ${PREFIX}<module>.lora_A.weight / .lora_B.weight)`;
      throw bad(`unexpected tensor "${name}"${hint}`);
    }
    const pair = halves.get(m[1]) ?? {};
    pair[m[2] === 'lora_A' ? 'A' : 'B'] = name;
    halves.set(m[1], pair);
  }
  const pairs = new Map<string, LoraPair>();
  for (const [key, { A, B }] of halves) {
    if (!A || !B) throw bad(`module "${key}" has ${A ? 'lora_A' : 'lora_B'} but no ${A ? 'lora_B' : 'lora_A'}`);
    const a = file.tensors.get(A)!;
    const b = file.tensors.get(B)!;
    for (const [name, info] of [
      [A, a],
      [B, b],
    ] as const) {
      if (info.dtype !== 'F32' && info.dtype !== 'F16' && info.dtype !== 'BF16')
        throw bad(`"${name}" has dtype ${info.dtype}; LoRA weights must be F32, F16 or BF16`);
      if (info.shape.length !== 2 || info.shape.some((d) => d === 0))
        throw bad(`"${name}" must be a non-empty matrix, found shape [${info.shape}]`);
    }
    if (a.shape[0] !== b.shape[1])
      throw bad(`module "${key}": lora_A is [${a.shape}] and lora_B is [${b.shape}], their ranks differ`);
    const values = (name: string) => {
      const v = file.read(name) as Float32Array;
      if (!v.every(Number.isFinite)) throw bad(`"${name}" contains NaN or infinite values`);
      return v;
    };
    pairs.set(key, {
      key,
      A: values(A),
      B: values(B),
      rank: a.shape[0],
      inDim: a.shape[1],
      outDim: b.shape[0],
    });
  }
  if (pairs.size === 0) throw bad('holds no LoRA tensors');
  const name = file.metadata[PEFT_BASE_NAME_KEY];
  const fingerprint = file.metadata[PEFT_BASE_FINGERPRINT_KEY];
  return { config, pairs, baseModel: name && fingerprint ? { name, fingerprint } : null };
}

export interface LoraUpdate {
  /** One block per adapted linear: ΔW over all its columns. */
  blocks: FuseBlock[];
  /** One-line notes the user should see (fan_in_fan_out, modules without weights, fingerprint kind). */
  notes: string[];
}

/**
 * The adapter's ΔW per linear for this model, after checking that it fits: every tensor belongs
 * to a linear the config adapts and the model has, with that linear's shape and the config's rank.
 */
export function loraUpdate(
  adapter: PeftLoraAdapter,
  config: ModelConfig,
  base: BaseModelId,
  label: string,
): LoraUpdate {
  const notes: string[] = [];
  if (adapter.baseModel) {
    const note = checkBaseFingerprint(adapter.baseModel, base, label);
    if (note) notes.push(note);
  } else {
    notes.push(
      `${label}: the adapter records no base-model fingerprint (not written by this studio), so only its shapes were checked against "${base.name}"`,
    );
  }
  if (adapter.config.fanInFanOutNote) notes.push(adapter.config.fanInFanOutNote);
  const targets = new Map(loraTargets(adapter.config, config.numLayers, label).map((t) => [t.key, t]));
  const fail = (message: string, code: 'wrong-model' | 'shape-mismatch' | 'bad-file' = 'bad-file') => {
    throw new UserError(code, message, label);
  };

  const blocks: FuseBlock[] = [];
  for (const pair of adapter.pairs.values()) {
    const target = targets.get(pair.key);
    if (!target) {
      const layer = /^model\.layers\.(\d+)\./.exec(pair.key);
      if (layer && Number(layer[1]) >= config.numLayers)
        fail(`adapts "${pair.key}", but the loaded model "${base.name}" has ${config.numLayers} layers`, 'wrong-model');
      fail(
        `holds weights for "${pair.key}", which the config's target_modules (with exclude_modules and layers_to_transform) does not adapt`,
      );
    }
    const [out, inDim] = linearShape(config, target!.module);
    if (pair.inDim !== inDim || pair.outDim !== out)
      fail(
        `"${pair.key}": lora_A is [${pair.rank}, ${pair.inDim}] and lora_B [${pair.outDim}, ${pair.rank}], but the loaded model's ${target!.module} is [${out}, ${inDim}] (out, in)`,
        'shape-mismatch',
      );
    if (pair.rank !== target!.r)
      fail(
        `"${pair.key}": its tensors have rank ${pair.rank}, but the config gives r = ${target!.r} (r or rank_pattern)`,
      );
    blocks.push(denseBlock(target!.layer, target!.module, pair, target!.scaling));
  }
  const missing = [...targets.keys()].filter((key) => !adapter.pairs.has(key));
  if (missing.length > 0) {
    if (!adapter.config.missingModulesAreZero)
      fail(
        `target_modules adapts "${missing[0]}" (and ${missing.length - 1} more) but the file has no weights for it, and init_lora_weights is false (PEFT would leave random weights there)`,
      );
    notes.push(
      `${label}: ${missing.length} module(s) the config adapts have no weights (e.g. "${missing[0]}"); as in PEFT, their update is zero`,
    );
  }
  return { blocks, notes };
}

/** scaling · B · A [out, in] in float64, as the block of every column of the linear. */
function denseBlock(layer: number, module: ModuleName, pair: LoraPair, scaling: number): FuseBlock {
  const { A, B, rank, inDim, outDim } = pair;
  const row = new Float64Array(inDim);
  const delta = new Float32Array(outDim * inDim); // [out, in]
  for (let o = 0; o < outDim; o++) {
    row.fill(0);
    for (let k = 0; k < rank; k++) {
      const b = B[o * rank + k]; // B[o, k]
      if (b === 0) continue;
      const a = k * inDim; // row k of A [r, in]
      for (let i = 0; i < inDim; i++) row[i] += b * A[a + i];
    }
    for (let i = 0; i < inDim; i++) delta[o * inDim + i] = scaling * row[i];
  }
  return {
    layer,
    module,
    axis: 'columns',
    indices: Int32Array.from({ length: inDim }, (_, i) => i),
    delta,
    shape: [outDim, inDim],
  };
}
