/**
 * A HuggingFace checkpoint directory ⇄ a ModelConfig and LlamaWeights in tfjs tensors.
 *
 *   config.json                                   → ModelConfig (model/config.ts)
 *   model.safetensors | model.safetensors.index.json + shards
 *                                                 → LlamaWeights, HF layout ([out, in] linears)
 *   tokenizer.json, tokenizer_config.json         → parsed JSON, or null with a warning
 *
 * Loading checks everything before it allocates: the fp32 size against the memory limit, every
 * tensor the config implies present with exactly the implied shape, and a float dtype. Tensors are
 * read one slice at a time; the embedding and lm_head are split by rows into shards that fit one
 * GPU buffer (maxBufferBytes, WebGPU's maxStorageBufferBindingSize in the browser).
 */
import * as tf from '@tensorflow/tfjs';
import { describeJson } from '../describeJson';
import { UserError } from '../errors';
import { biasedModules, estimateMemoryBytes, parseConfig, toHfConfig } from '../model/config';
import { linearShape } from '../model/init';
import { extraNorms } from '../model/family';
import {
  MODULE_NAMES,
  linearWeightName,
  type LayerWeights,
  type LlamaWeights,
  type ModelConfig,
  type ModuleName,
} from '../model/types';
import {
  EMBED_TOKENS,
  FINAL_NORM,
  LM_HEAD,
  checkpointTensors,
  inputLayernormName,
  namedWeights,
  postAttentionLayernormName,
  extraNormName,
  rowShards,
  type TensorSpec,
} from './checkpointLayout';
import { fileByteSource, missingFile, type FileSource } from './fileSource';
import { WeightsFingerprinter } from './fingerprint';
import { openSafetensors, writeSafetensors, type SafetensorsReader, type TensorEntry } from './safetensors';

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';
export const TOKENIZER_FILE = 'tokenizer.json';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';
/** Files of a model folder besides config and weights that a fused copy carries over unchanged. */
export const COMPANION_FILES = [
  TOKENIZER_FILE,
  TOKENIZER_CONFIG_FILE,
  'special_tokens_map.json',
  'generation_config.json',
  'chat_template.jinja',
  'tokenizer.model',
  'vocab.json',
  'merges.txt',
] as const;
/**
 * WebGPU's default limits, which every adapter grants: maxStorageBufferBindingSize 128 MiB (2^27)
 * and maxBufferSize 256 MiB. A tensor is bound whole, so the smaller one bounds each tensor.
 */
export const WEBGPU_DEFAULT_LIMITS = { maxStorageBufferBindingSize: 128 * 2 ** 20, maxBufferSize: 256 * 2 ** 20 };
export const DEFAULT_MAX_BUFFER_BYTES = Math.min(
  WEBGPU_DEFAULT_LIMITS.maxStorageBufferBindingSize,
  WEBGPU_DEFAULT_LIMITS.maxBufferSize,
);

export interface LoadProgress {
  loadedBytes: number; // float32 bytes of the tensors made so far
  totalBytes: number;
  tensor: string; // the tensor just made
}

export interface LoadOptions {
  /** Largest float32 tensor (bytes) one GPU buffer holds; the embedding and lm_head are split to fit. */
  maxBufferBytes?: number;
  /** Refuse, before allocating, a model whose fp32 weights exceed this many bytes. */
  memoryLimitBytes?: number;
  onProgress?: (progress: LoadProgress) => void;
}

export type WeightsDtype = 'F32' | 'F16' | 'BF16';

export interface LoadedCheckpoint {
  config: ModelConfig;
  weights: LlamaWeights;
  /** How the file stores the weights (held as float32 here); a mix of dtypes is reported as F32. */
  dtype: WeightsDtype;
  tokenizerJson: object | null;
  tokenizerConfig: object | null;
  /** fingerprint.ts: identifies the base weights for adapters (every weight hashed). */
  fingerprint: string;
  /** The old kind (sampledFingerprint.ts), for adapters written before every weight was hashed. */
  sampledFingerprint: string;
  name: string;
  /** Things a user should know that do not stop the load (no tokenizer, ignored tensors). */
  warnings: string[];
}

const GiB = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;
const MiB = 2 ** 20;

/**
 * Largest JSON files the loader reads whole, checked before reading. Real ones are far smaller
 * (config.json ~1 KB, an index ~50 KB, tokenizer.json up to ~35 MB for a 256k vocabulary).
 */
export const MAX_JSON_BYTES: Readonly<Record<string, number>> = {
  [CONFIG_FILE]: 1 * MiB,
  [INDEX_FILE]: 16 * MiB,
  [TOKENIZER_FILE]: 64 * MiB,
  [TOKENIZER_CONFIG_FILE]: 16 * MiB,
};

async function readJson(source: FileSource, path: string): Promise<unknown> {
  const size = await source.size(path);
  const limit = MAX_JSON_BYTES[path] ?? 16 * MiB;
  if (size > limit) {
    throw new UserError(
      'too-large',
      `is ${size} bytes, over the ${limit / MiB} MiB limit for ${path} (is it the right file?)`,
      `${source.name}/${path}`,
    );
  }
  const text = await source.text(path);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError('bad-file', `is not valid JSON (${(e as Error).message})`, `${source.name}/${path}`);
  }
}

async function readOptionalJson(source: FileSource, path: string): Promise<object | null> {
  if (!source.has(path)) return null;
  const json = await readJson(source, path);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new UserError('bad-file', 'must be a JSON object', `${source.name}/${path}`);
  }
  return json;
}

/** Where each tensor of the checkpoint is: its name → the reader of the file that holds it. */
async function locateTensors(source: FileSource): Promise<{ located: Map<string, SafetensorsReader>; file: string }> {
  const located = new Map<string, SafetensorsReader>();
  const open = async (path: string) => openSafetensors(await fileByteSource(source, path), `${source.name}/${path}`);
  if (source.has(INDEX_FILE)) {
    const label = `${source.name}/${INDEX_FILE}`;
    const index = await readJson(source, INDEX_FILE);
    const weightMap = (index as { weight_map?: unknown } | null)?.weight_map;
    if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
      throw new UserError('bad-file', 'has no "weight_map" object', label);
    }
    const readers = new Map<string, SafetensorsReader>();
    for (const [tensor, shard] of Object.entries(weightMap)) {
      if (typeof shard !== 'string')
        throw new UserError(
          'bad-file',
          `weight_map["${tensor}"] must be a file name, got ${describeJson(shard)}`,
          label,
        );
      if (!source.has(shard))
        throw new UserError(
          'missing-file',
          `shard ${shard} (listed for "${tensor}") not found in ${source.name}`,
          label,
        );
      let reader = readers.get(shard);
      if (!reader) readers.set(shard, (reader = await open(shard)));
      if (!reader.tensors.has(tensor))
        throw new UserError('bad-file', `weight_map puts "${tensor}" in ${shard}, which has no such tensor`, label);
      located.set(tensor, reader);
    }
    return { located, file: INDEX_FILE };
  }
  if (source.has(WEIGHTS_FILE)) {
    const reader = await open(WEIGHTS_FILE);
    for (const name of reader.tensors.keys()) located.set(name, reader);
    return { located, file: WEIGHTS_FILE };
  }
  const pickle = source.list().find((p) => p.endsWith('.bin') || p.endsWith('.pt') || p.endsWith('.pth'));
  const hint = pickle ? ` (found ${pickle}: only safetensors weights are supported)` : '';
  throw new UserError('missing-file', `no ${WEIGHTS_FILE} or ${INDEX_FILE}${hint}`, source.name);
}

/** Every tensor the config implies: present, a float dtype, exactly the implied shape. */
function checkTensors(specs: TensorSpec[], located: Map<string, SafetensorsReader>, label: string): void {
  for (const { name, shape } of specs) {
    const info = located.get(name)?.tensors.get(name);
    if (!info) throw new UserError('bad-file', `tensor "${name}" is missing (config.json implies it)`, label);
    if (info.dtype !== 'F32' && info.dtype !== 'F16' && info.dtype !== 'BF16') {
      throw new UserError(
        'unsupported',
        `tensor "${name}" has dtype ${info.dtype}; weights must be F32, F16 or BF16`,
        label,
      );
    }
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      throw new UserError(
        'shape-mismatch',
        `tensor "${name}" has shape [${info.shape.join(', ')}] but config.json implies [${shape.join(', ')}]`,
        label,
      );
    }
  }
}

function ignoredTensorsWarning(specs: TensorSpec[], located: Map<string, SafetensorsReader>): string | null {
  const expected = new Set(specs.map((s) => s.name));
  // HF checkpoints may carry RoPE's inv_freq buffers and, when tied, a copy of lm_head.weight.
  const harmless = (name: string) => name.endsWith('rotary_emb.inv_freq') || name === LM_HEAD;
  const ignored = [...located.keys()].filter((name) => !expected.has(name) && !harmless(name));
  if (ignored.length === 0) return null;
  return `ignored ${ignored.length} tensor(s) the model does not use, e.g. "${ignored[0]}"`;
}

function storageDtype(specs: TensorSpec[], located: Map<string, SafetensorsReader>): WeightsDtype {
  const dtypes = new Set(specs.map(({ name }) => located.get(name)!.tensors.get(name)!.dtype));
  return dtypes.size === 1 ? ([...dtypes][0] as WeightsDtype) : 'F32'; // F32 holds every F16 and BF16 value
}

/** Loads a checkpoint directory into tfjs tensors, validating it first. */
export async function loadCheckpoint(source: FileSource, options: LoadOptions = {}): Promise<LoadedCheckpoint> {
  const maxBufferBytes = options.maxBufferBytes ?? DEFAULT_MAX_BUFFER_BYTES;
  const memoryLimitBytes = options.memoryLimitBytes ?? Infinity;
  if (!source.has(CONFIG_FILE)) throw missingFile(source, CONFIG_FILE);
  const config = parseConfig(await readJson(source, CONFIG_FILE), `${source.name}/${CONFIG_FILE}`);
  const needed = estimateMemoryBytes(config);
  if (needed > memoryLimitBytes) {
    throw new UserError(
      'too-large',
      `the model needs ${GiB(needed)} for its float32 weights, more than the ${GiB(memoryLimitBytes)} available`,
      source.name,
    );
  }

  const { located, file } = await locateTensors(source);
  // Listing the tensors a config implies takes time and memory in proportion to its layer count:
  // a config.json claiming 2^40 layers is refused by what the files hold before any listing.
  // (Near misses, e.g. one layer too many, get checkTensors' message naming the missing tensor.)
  if (config.numLayers > located.size) {
    throw new UserError(
      'bad-file',
      `config.json says num_hidden_layers = ${config.numLayers}, but ${file} holds only ` +
        `${located.size} tensors (a layer has ${2 + MODULE_NAMES.length})`,
      `${source.name}/${file}`,
    );
  }
  const specs = checkpointTensors(config);
  checkTensors(specs, located, `${source.name}/${file}`);
  for (const { name, shape } of specs) {
    const bytes = 4 * shape.reduce((n, d) => n * d, 1);
    if (name === EMBED_TOKENS || name === LM_HEAD)
      rowShards(name, shape[0], shape[1], maxBufferBytes); // throws if a row cannot fit
    else if (bytes > maxBufferBytes) {
      throw new UserError(
        'too-large',
        `tensor "${name}" takes ${bytes} bytes in float32, more than the device's ${maxBufferBytes}-byte buffer limit`,
        source.name,
      );
    }
  }

  const warnings: string[] = [];
  const ignored = ignoredTensorsWarning(specs, located);
  if (ignored) warnings.push(ignored);
  const tokenizerJson = await readOptionalJson(source, TOKENIZER_FILE);
  const tokenizerConfig = await readOptionalJson(source, TOKENIZER_CONFIG_FILE);
  if (!tokenizerJson)
    warnings.push(
      `no ${TOKENIZER_FILE}: the model loads for token-id work only (prompt ids, input_ids data); text cannot be encoded or decoded`,
    );

  const made: tf.Tensor[] = [];
  // Every value is hashed as it is read, in checkpointTensors' order (the order below).
  const fingerprinter = await WeightsFingerprinter.start(config);
  const totalBytes = specs.reduce((n, s) => n + 4 * s.shape.reduce((a, d) => a * d, 1), 0);
  let loadedBytes = 0;
  const keep = <T extends tf.Tensor>(name: string, tensor: T): T => {
    made.push(tensor);
    loadedBytes += 4 * tensor.size;
    options.onProgress?.({ loadedBytes, totalBytes, tensor: name });
    return tensor;
  };
  const readWhole = async (name: string): Promise<Float32Array> => {
    const values = (await located.get(name)!.read(name)) as Float32Array;
    fingerprinter.tensor(name);
    fingerprinter.add(values);
    return values;
  };
  // [D] norm or [out] bias
  const vector = async (name: string): Promise<tf.Tensor1D> => keep(name, tf.tensor1d(await readWhole(name)));
  const matrix = async (name: string, shape: [number, number]): Promise<tf.Tensor2D> =>
    keep(name, tf.tensor2d(await readWhole(name), shape)); // [out, in]
  const rowSharded = async (name: string): Promise<tf.Tensor2D[]> => {
    const { vocabSize: V, hiddenSize: D } = config;
    fingerprinter.tensor(name);
    const shards: tf.Tensor2D[] = [];
    for (const [start, end] of rowShards(name, V, D, maxBufferBytes)) {
      const values = (await located.get(name)!.readRows(name, start, end)) as Float32Array;
      fingerprinter.add(values);
      shards.push(keep(name, tf.tensor2d(values, [end - start, D]))); // [V_i, D]
    }
    return shards;
  };

  try {
    const embedTokens = await rowSharded(EMBED_TOKENS);
    const layers: LayerWeights[] = [];
    for (let i = 0; i < config.numLayers; i++) {
      const inputLayernorm = await vector(inputLayernormName(i));
      const postAttentionLayernorm = await vector(postAttentionLayernormName(i));
      const norms: LayerWeights['norms'] = {};
      for (const { name } of extraNorms(config)) norms[name] = await vector(extraNormName(i, name));
      const linear = {} as Record<ModuleName, tf.Tensor2D>;
      for (const m of MODULE_NAMES)
        linear[m] = await matrix(`${linearWeightName(i, m)}.weight`, linearShape(config, m));
      const bias: LayerWeights['bias'] = {};
      for (const m of biasedModules(config)) bias[m] = await vector(`${linearWeightName(i, m)}.bias`);
      layers.push({ inputLayernorm, postAttentionLayernorm, linear, bias, norms });
    }
    const norm = await vector(FINAL_NORM);
    const lmHead = config.tieWordEmbeddings ? null : await rowSharded(LM_HEAD);
    const weights: LlamaWeights = { embedTokens, layers, norm, lmHead };
    return {
      config,
      weights,
      dtype: storageDtype(specs, located),
      tokenizerJson,
      tokenizerConfig,
      ...fingerprinter.digest(),
      name: source.name,
      warnings,
    };
  } catch (e) {
    tf.dispose(made);
    throw e;
  }
}

export interface WriteOptions {
  /** dtype of the weights on disk (default F32, exact). */
  dtype?: WeightsDtype;
  /** Split the weights into shards of about this many bytes (default 2 GiB) with an index file. */
  maxShardBytes?: number;
  /** Extra config.json fields (e.g. `_name_or_path`). */
  configExtra?: Record<string, unknown>;
  /** Other files of the directory, e.g. tokenizer.json: bytes, text, or an object written as JSON. */
  files?: Record<string, Uint8Array | string | object>;
}

const TORCH_DTYPE = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' } as const;

/** The float32 values of each tensor of checkpointTensors(config), read back from the backend. */
async function weightEntries(
  config: ModelConfig,
  weights: LlamaWeights,
  dtype: TensorEntry['dtype'],
): Promise<TensorEntry[]> {
  const concat = async (shards: tf.Tensor[]): Promise<Float32Array> => {
    const parts = await Promise.all(shards.map(async (s) => (await s.data()) as Float32Array));
    const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  const tensors = namedWeights(config, weights);
  const entries: TensorEntry[] = [];
  for (const { name, shape } of checkpointTensors(config)) {
    const pieces = tensors.get(name);
    const data = pieces ? await concat(pieces) : new Float32Array(shape[0]); // absent bias = zeros
    entries.push({ name, dtype, shape, data });
  }
  return entries;
}

/**
 * A checkpoint directory as files (path → bytes) that loadCheckpoint and HF transformers read:
 * config.json, model.safetensors (or shards and model.safetensors.index.json) and `files`.
 */
export async function writeCheckpoint(
  config: ModelConfig,
  weights: LlamaWeights,
  options: WriteOptions = {},
): Promise<Map<string, Uint8Array>> {
  const dtype = options.dtype ?? 'F32';
  const maxShardBytes = options.maxShardBytes ?? 2 * 2 ** 30;
  const entries = await weightEntries(config, weights, dtype);
  const bytesOf = (e: TensorEntry) => e.data.length * (dtype === 'F32' ? 4 : 2);

  const groups: TensorEntry[][] = [[]];
  let groupBytes = 0;
  for (const entry of entries) {
    if (groupBytes > 0 && groupBytes + bytesOf(entry) > maxShardBytes) {
      groups.push([]);
      groupBytes = 0;
    }
    groups[groups.length - 1].push(entry);
    groupBytes += bytesOf(entry);
  }

  const files = new Map<string, Uint8Array>();
  const encoder = new TextEncoder();
  const json = (value: unknown) => encoder.encode(`${JSON.stringify(value, null, 2)}\n`);
  files.set(CONFIG_FILE, json(toHfConfig(config, { torch_dtype: TORCH_DTYPE[dtype], ...options.configExtra })));
  // transformers requires metadata.format "pt" to load a safetensors file as PyTorch weights.
  const metadata = { format: 'pt' };
  if (groups.length === 1) {
    files.set(WEIGHTS_FILE, writeSafetensors(groups[0], metadata));
  } else {
    const pad = (n: number) => String(n).padStart(5, '0');
    const weightMap: Record<string, string> = {};
    groups.forEach((group, i) => {
      const shard = `model-${pad(i + 1)}-of-${pad(groups.length)}.safetensors`;
      files.set(shard, writeSafetensors(group, metadata));
      for (const e of group) weightMap[e.name] = shard;
    });
    const totalSize = entries.reduce((n, e) => n + bytesOf(e), 0);
    files.set(INDEX_FILE, json({ metadata: { total_size: totalSize }, weight_map: weightMap }));
  }
  for (const [path, content] of Object.entries(options.files ?? {})) {
    files.set(
      path,
      content instanceof Uint8Array ? content : typeof content === 'string' ? encoder.encode(content) : json(content),
    );
  }
  return files;
}
