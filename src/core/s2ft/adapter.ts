/**
 * The native S²FT adapter file (ARCHITECTURE.md "File formats"): one safetensors file whose
 * `__metadata__` holds `"format": "s2ft"` and `"s2ft_config"` (a JSON string), and per trained
 * module a dense delta plus the original indices it belongs to:
 *
 *   model.layers.{i}.self_attn.o_proj.s2ft_delta    F32 [hidden, k]   W[:, cols[j]] += delta[:, j]
 *   model.layers.{i}.self_attn.o_proj.s2ft_columns  I32 [k]
 *   model.layers.{i}.mlp.down_proj.s2ft_delta       F32 [hidden, c]
 *   model.layers.{i}.mlp.down_proj.s2ft_columns     I32 [c]
 *   model.layers.{i}.self_attn.v_proj.s2ft_delta    F32 [r, hidden]   W[rows[j], :] += delta[j, :]
 *   model.layers.{i}.self_attn.v_proj.s2ft_rows     I32 [r]           (likewise mlp.up_proj)
 *
 * Decoding trusts nothing: every index, shape and value is checked against the model dimensions
 * recorded in the config, so a file that decodes can be fused without further checks except that
 * it was made for the model at hand (`checkAdapterFitsModel`).
 */
import { describeJson } from '../describeJson';
import { UserError } from '../errors';
import { isSampledFingerprint } from '../io/fingerprint';
import { parseSafetensors, writeSafetensors, type TensorEntry } from '../io/safetensors';
import { linearWeightName, type ModelConfig, type ModuleName } from '../model/types';
import type { AdapterBlock, BlockAxis, BlockModule } from './types';

/** The model dimensions an adapter needs to be validated on its own, without the model. */
export interface AdapterDims {
  numLayers: number;
  hiddenSize: number;
  intermediateSize: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
}

/** Everything in `s2ft_config` besides the blocks themselves. */
export interface AdapterInfo {
  baseModel: { name: string; fingerprint: string };
  targetModules: BlockModule[];
  selection: { strategy: string; pick?: 'large' | 'small'; seed: number };
  /** Training settings as plain JSON (optimizer, lr, steps, ...), recorded for provenance. */
  training: Record<string, unknown>;
  dims: AdapterDims;
}

export interface S2ftAdapter {
  info: AdapterInfo;
  blocks: AdapterBlock[];
}

export const S2FT_FORMAT = 's2ft';
/**
 * Largest adapter file read (bytes). An adapter holds a few percent of a model's weights in
 * float32: even an 8B model's is a few hundred MB; a bigger file is not an adapter.
 */
export const MAX_ADAPTER_BYTES = 2 ** 30;
const BLOCK_MODULES: readonly BlockModule[] = ['o_proj', 'down_proj', 'v_proj', 'up_proj'];
/** o_proj and down_proj train input columns; v_proj and up_proj train output rows. */
export const BLOCK_AXIS: Record<BlockModule, BlockAxis> = {
  o_proj: 'columns',
  down_proj: 'columns',
  v_proj: 'rows',
  up_proj: 'rows',
};

export function adapterDims(config: ModelConfig): AdapterDims {
  const { numLayers, hiddenSize, intermediateSize, numHeads, numKvHeads, headDim } = config;
  return { numLayers, hiddenSize, intermediateSize, numHeads, numKvHeads, headDim };
}

/** [out, in] of a linear's full weight (S²FT trains four of them; a fusion with LoRA may touch any). */
export function moduleShape(dims: AdapterDims, module: ModuleName): [number, number] {
  const { hiddenSize: D, intermediateSize: F, numHeads: H, numKvHeads: Hkv, headDim: hd } = dims;
  switch (module) {
    case 'q_proj':
      return [H * hd, D];
    case 'k_proj':
    case 'v_proj':
      return [Hkv * hd, D];
    case 'o_proj':
      return [D, H * hd];
    case 'gate_proj':
    case 'up_proj':
      return [F, D];
    case 'down_proj':
      return [D, F];
  }
}

/** [out, k] for a column block, [k, in] for a row block. */
export function blockShape(dims: AdapterDims, module: BlockModule, k: number): [number, number] {
  const [out, inDim] = moduleShape(dims, module);
  return BLOCK_AXIS[module] === 'columns' ? [out, k] : [k, inDim];
}

const indexSuffix = (axis: BlockAxis) => (axis === 'columns' ? 's2ft_columns' : 's2ft_rows');

export function encodeS2ftAdapter(blocks: AdapterBlock[], info: AdapterInfo): Uint8Array {
  const entries: TensorEntry[] = [];
  for (const b of blocks) {
    const name = linearWeightName(b.layer, b.module);
    entries.push({ name: `${name}.s2ft_delta`, dtype: 'F32', shape: [...b.shape], data: b.delta });
    entries.push({ name: `${name}.${indexSuffix(b.axis)}`, dtype: 'I32', shape: [b.indices.length], data: b.indices });
  }
  const config = {
    peft_type: 'S2FT',
    format_version: 1,
    base_model: { name: info.baseModel.name, fingerprint: info.baseModel.fingerprint },
    target_modules: info.targetModules,
    selection: info.selection,
    training: info.training,
    model: {
      num_layers: info.dims.numLayers,
      hidden_size: info.dims.hiddenSize,
      intermediate_size: info.dims.intermediateSize,
      num_attention_heads: info.dims.numHeads,
      num_key_value_heads: info.dims.numKvHeads,
      head_dim: info.dims.headDim,
    },
  };
  const bytes = writeSafetensors(entries, { format: S2FT_FORMAT, s2ft_config: JSON.stringify(config) });
  // Validate what we wrote with the same rules a reader applies: a bad block is a bug here.
  decodeS2ftAdapter(bytes, 'adapter being written');
  return bytes;
}

const TENSOR_NAME =
  /^model\.layers\.(\d+)\.(self_attn|mlp)\.(o_proj|down_proj|v_proj|up_proj)\.(s2ft_delta|s2ft_columns|s2ft_rows)$/;

export function decodeS2ftAdapter(bytes: Uint8Array, label: string): S2ftAdapter {
  if (bytes.length > MAX_ADAPTER_BYTES) {
    throw new UserError(
      'too-large',
      `adapter file is ${bytes.length} bytes, over the ${MAX_ADAPTER_BYTES / 2 ** 20} MiB limit (is it a whole model?)`,
      label,
    );
  }
  const file = parseSafetensors(bytes, label);
  const bad = (message: string) => new UserError('bad-file', message, label);
  const format = file.metadata.format;
  if (format !== S2FT_FORMAT) {
    throw bad(
      `not an S²FT adapter: safetensors metadata "format" is ${format === undefined ? 'missing' : describeJson(format)}, expected "s2ft"`,
    );
  }
  const info = parseConfig(file.metadata.s2ft_config, bad);

  // Group the tensors by module: each module needs exactly a delta and one index tensor.
  const groups = new Map<
    string,
    { layer: number; module: BlockModule; delta?: string; index?: string; axis?: BlockAxis }
  >();
  for (const name of file.tensors.keys()) {
    const m = TENSOR_NAME.exec(name);
    if (!m)
      throw bad(
        `unexpected tensor "${name}" (an S²FT adapter holds only s2ft_delta / s2ft_columns / s2ft_rows tensors)`,
      );
    const layer = Number(m[1]);
    const module = m[3] as BlockModule;
    if (name !== `${linearWeightName(layer, module)}.${m[4]}`)
      throw bad(`tensor "${name}": ${module} is not in the ${m[2]} block`);
    if (layer >= info.dims.numLayers)
      throw bad(
        `tensor "${name}": layer ${layer} is out of range (the adapter's model has ${info.dims.numLayers} layers)`,
      );
    const key = `${layer}.${module}`;
    const g = groups.get(key) ?? { layer, module };
    groups.set(key, g);
    if (m[4] === 's2ft_delta') g.delta = name;
    else {
      const axis: BlockAxis = m[4] === 's2ft_columns' ? 'columns' : 'rows';
      if (axis !== BLOCK_AXIS[module])
        throw bad(`tensor "${name}": ${module} blocks are ${BLOCK_AXIS[module]}, not ${axis}`);
      g.index = name;
      g.axis = axis;
    }
  }

  const blocks: AdapterBlock[] = [];
  for (const g of groups.values()) {
    const prefix = linearWeightName(g.layer, g.module);
    if (!g.delta) throw bad(`"${prefix}" has indices but no s2ft_delta tensor`);
    if (!g.index || !g.axis) throw bad(`"${prefix}.s2ft_delta" has no ${indexSuffix(BLOCK_AXIS[g.module])} tensor`);
    blocks.push(readBlock(file, g.layer, g.module, g.axis, g.delta, g.index, info.dims, bad));
  }
  blocks.sort((a, b) => a.layer - b.layer || BLOCK_MODULES.indexOf(a.module) - BLOCK_MODULES.indexOf(b.module));
  return { info, blocks };
}

function readBlock(
  file: ReturnType<typeof parseSafetensors>,
  layer: number,
  module: BlockModule,
  axis: BlockAxis,
  deltaName: string,
  indexName: string,
  dims: AdapterDims,
  bad: (m: string) => UserError,
): AdapterBlock {
  const indexInfo = file.tensors.get(indexName)!;
  const deltaInfo = file.tensors.get(deltaName)!;
  if (indexInfo.dtype !== 'I32' && indexInfo.dtype !== 'I64')
    throw bad(`"${indexName}" must be I32, found ${indexInfo.dtype}`);
  if (deltaInfo.dtype !== 'F32') throw bad(`"${deltaName}" must be F32, found ${deltaInfo.dtype}`);
  if (indexInfo.shape.length !== 1) throw bad(`"${indexName}" must be 1-D, found shape [${indexInfo.shape}]`);
  const k = indexInfo.shape[0];
  if (k === 0) throw bad(`"${indexName}" is empty`);
  const expected = blockShape(dims, module, k);
  if (deltaInfo.shape.length !== 2 || deltaInfo.shape[0] !== expected[0] || deltaInfo.shape[1] !== expected[1]) {
    throw bad(
      `"${deltaName}" has shape [${deltaInfo.shape}], expected [${expected}] (${k} ${axis} of a [${moduleShape(dims, module)}] ${module})`,
    );
  }
  const indices = file.read(indexName) as Int32Array;
  const limit = moduleShape(dims, module)[axis === 'columns' ? 1 : 0];
  const seen = new Set<number>();
  for (const j of indices) {
    if (j < 0 || j >= limit) throw bad(`"${indexName}": index ${j} is out of range [0, ${limit})`);
    if (seen.has(j)) throw bad(`"${indexName}": index ${j} appears twice`);
    seen.add(j);
  }
  const delta = file.read(deltaName) as Float32Array;
  if (!delta.every(Number.isFinite)) throw bad(`"${deltaName}" contains NaN or infinite values`);
  return { layer, module, axis, indices, delta, shape: expected };
}

function parseConfig(text: string | undefined, bad: (m: string) => UserError): AdapterInfo {
  if (text === undefined) throw bad('metadata has no "s2ft_config"');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw bad('metadata "s2ft_config" is not valid JSON');
  }
  const obj = (v: unknown, field: string): Record<string, unknown> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`s2ft_config.${field} must be an object`);
    return v as Record<string, unknown>;
  };
  const str = (v: unknown, field: string): string => {
    if (typeof v !== 'string') throw bad(`s2ft_config.${field} must be a string`);
    return v;
  };
  const posInt = (v: unknown, field: string): number => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0)
      throw bad(`s2ft_config.${field} must be a positive integer, got ${describeJson(v)}`);
    return v;
  };
  const c = obj(raw, '(root)');
  if (c.peft_type !== 'S2FT') throw bad(`s2ft_config.peft_type is ${describeJson(c.peft_type)}, expected "S2FT"`);
  const base = obj(c.base_model, 'base_model');
  const sel = obj(c.selection, 'selection');
  const model = obj(c.model, 'model');
  if (!Array.isArray(c.target_modules) || !c.target_modules.every((m) => BLOCK_MODULES.includes(m as BlockModule))) {
    throw bad(`s2ft_config.target_modules must list modules among ${BLOCK_MODULES.join(', ')}`);
  }
  if (sel.pick !== undefined && sel.pick !== 'large' && sel.pick !== 'small')
    throw bad('s2ft_config.selection.pick must be "large" or "small"');
  if (typeof sel.seed !== 'number' || !Number.isSafeInteger(sel.seed))
    throw bad(`s2ft_config.selection.seed must be an integer, got ${describeJson(sel.seed)}`);
  const dims: AdapterDims = {
    numLayers: posInt(model.num_layers, 'model.num_layers'),
    hiddenSize: posInt(model.hidden_size, 'model.hidden_size'),
    intermediateSize: posInt(model.intermediate_size, 'model.intermediate_size'),
    numHeads: posInt(model.num_attention_heads, 'model.num_attention_heads'),
    numKvHeads: posInt(model.num_key_value_heads, 'model.num_key_value_heads'),
    headDim: posInt(model.head_dim, 'model.head_dim'),
  };
  return {
    baseModel: {
      name: str(base.name, 'base_model.name'),
      fingerprint: str(base.fingerprint, 'base_model.fingerprint'),
    },
    targetModules: c.target_modules as BlockModule[],
    selection: {
      strategy: str(sel.strategy, 'selection.strategy'),
      seed: sel.seed,
      ...(sel.pick ? { pick: sel.pick } : {}),
    },
    training: c.training === undefined ? {} : obj(c.training, 'training'),
    dims,
  };
}

/** The base model an adapter is being applied to. */
export interface BaseModelId {
  name: string;
  /** fingerprint.ts: every weight hashed. */
  fingerprint: string;
  /** The old, sampled kind, matched by adapters written before every weight was hashed. */
  sampledFingerprint?: string;
}

/** The two models of a mismatch, named as every refusal names them. */
function bothModels(recorded: { name: string; fingerprint: string }, base: BaseModelId): string {
  const baseFingerprint = isSampledFingerprint(recorded.fingerprint)
    ? (base.sampledFingerprint ?? base.fingerprint)
    : base.fingerprint;
  return `the adapter was trained on "${recorded.name}" (fingerprint ${recorded.fingerprint}), the loaded model is "${base.name}" (fingerprint ${baseFingerprint})`;
}

/**
 * Refuses an adapter whose recorded base fingerprint is not the loaded model's. Returns a one-line
 * note when the fingerprint is the old, sampled kind (it then matched on sampled values only).
 */
export function checkBaseFingerprint(
  recorded: { name: string; fingerprint: string },
  base: BaseModelId,
  label: string,
): string | null {
  const sampled = isSampledFingerprint(recorded.fingerprint);
  const baseFingerprint = sampled ? (base.sampledFingerprint ?? base.fingerprint) : base.fingerprint;
  if (recorded.fingerprint !== baseFingerprint) {
    throw new UserError('wrong-model', `adapter was made for another base model: ${bothModels(recorded, base)}`, label);
  }
  return sampled
    ? `${label}: the adapter's base-model fingerprint is the old kind (1024 sampled values per tensor), so only those values were checked`
    : null;
}

/**
 * Refuses an adapter made for another base model. Dimension mismatches get their own message
 * (they explain *why* it cannot fit); equal dimensions with another fingerprint mean other weights.
 * Returns checkBaseFingerprint's note.
 */
export function checkAdapterFitsModel(
  adapter: S2ftAdapter,
  config: ModelConfig,
  base: BaseModelId,
  label: string,
): string | null {
  const both = bothModels(adapter.info.baseModel, base);
  const dims = adapter.info.dims;
  const model = adapterDims(config);
  if (dims.numLayers !== model.numLayers) {
    throw new UserError(
      'wrong-model',
      `adapter is for a model with ${dims.numLayers} layers, the loaded model has ${model.numLayers}; ${both}`,
      label,
    );
  }
  for (const key of Object.keys(dims) as (keyof AdapterDims)[]) {
    if (dims[key] !== model[key]) {
      throw new UserError(
        'shape-mismatch',
        `adapter expects ${key} = ${dims[key]}, the loaded model has ${model[key]}; ${both}`,
        label,
      );
    }
  }
  return checkBaseFingerprint(adapter.info.baseModel, base, label);
}
