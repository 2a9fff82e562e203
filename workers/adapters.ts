/**
 * The adapters a session knows: S²FT adapters trained here, imported from a file, or fused from
 * others; LoRA adapters trained here; PEFT LoRA adapters imported (from PEFT, Unsloth, ... or this
 * studio after a reload). Each can be checked against the loaded model, exported, stored, fused
 * and served for generation (S²FT and imported LoRA: fused into private copies of the touched
 * weights, switched in place, paper §6 and src/core/s2ft/servingWeights.ts; a LoRA trained in this
 * session: its linear on the frozen base).
 */
import * as tf from '@tensorflow/tfjs';
import { zipSync } from 'fflate';
import { writeCheckpoint, type WeightsDtype } from '../src/core/io/checkpoint';
import { UserError } from '../src/core/errors';
import type { LinearFn, LlamaModel } from '../src/core/model/types';
import { decodeAdapterFile, decodeAdapterFolder, type DecodedAdapter } from '../src/core/peft/anyAdapter';
import { decodePeftLora, loraUpdate, type PeftLoraAdapter } from '../src/core/peft/loraAdapter';
import {
  BLOCK_AXIS,
  adapterDims,
  checkAdapterFitsModel,
  encodeS2ftAdapter,
  type AdapterInfo,
  type S2ftAdapter,
} from '../src/core/s2ft/adapter';
import { PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE, exportPeftLora, peftZip, type PeftFiles } from '../src/core/s2ft/peft';
import { combineUpdates, fuseAdapters, releaseReplacedWeights, type FuseBlock } from '../src/core/s2ft/fuse';
import { ServingWeights } from '../src/core/s2ft/servingWeights';
import type { AdapterBlock, BlockModule } from '../src/core/s2ft/types';
import type { ModuleName } from '../src/core/model/types';
import { prepareLora, type LoraOptions } from '../src/core/train/lora';
import type { AdapterSummary, ExportedFile } from './api';
import type { StoredAdapter } from './adapterStore';

export interface S2ftEntry {
  kind: 's2ft' | 'fused';
  id: string;
  name: string;
  origin: AdapterSummary['origin'];
  adapter: S2ftAdapter;
}

/** A PEFT LoRA adapter: imported, a studio LoRA restored after a reload, or a fusion with LoRA parts. */
export interface PeftEntry {
  kind: 'peft';
  id: string;
  name: string;
  origin: AdapterSummary['origin'];
  lora: PeftLoraAdapter;
  /** adapter_config.json and adapter_model.safetensors: what is exported and stored. */
  files: PeftFiles;
  /** Its ΔW blocks for the model last checked (loraUpdate is a dense pass: once per model). */
  checked?: { fingerprint: string; result: { blocks: FuseBlock[]; notes: string[] } | { error: UserError } };
}

/** A LoRA trained in this session: served through its own linear, as it trained. */
export interface LoraEntry extends Omit<PeftEntry, 'kind'> {
  kind: 'lora';
  origin: 'trained';
  options: LoraOptions;
  /** The trained A and B of every adapted module, in prepareLora's trainable order. */
  trainable: Float32Array[];
}

export type LoraLike = PeftEntry | LoraEntry;
export type AdapterEntry = S2ftEntry | LoraLike;

export const isS2ft = (entry: AdapterEntry): entry is S2ftEntry => entry.kind === 's2ft' || entry.kind === 'fused';

/** The model adapters are checked against. */
export interface BaseModel {
  model: LlamaModel;
  name: string;
  fingerprint: string;
  /** The old, sampled kind, for adapters written before every weight was fingerprinted. */
  sampledFingerprint?: string;
}

/** What generation runs with: weights, an optional linear, and what to free afterwards. */
export interface Serving {
  model: LlamaModel;
  linear?: LinearFn;
  /** S²FT: the weights switchServing rewrites in place for the next adapter. */
  s2ft?: ServingWeights;
  dispose(): void;
}

export function fitsModel(entry: AdapterEntry, base: BaseModel | null): { fits: boolean; message?: string } {
  if (!base) return { fits: false, message: 'no model is loaded' };
  try {
    const notes = isS2ft(entry) ? s2ftNotes(entry, base) : loraBlocks(entry, base).notes;
    return notes.length > 0 ? { fits: true, message: notes.join(' ') } : { fits: true };
  } catch (e) {
    if (e instanceof UserError) return { fits: false, message: e.message };
    throw e;
  }
}

function s2ftNotes(entry: S2ftEntry, base: BaseModel): string[] {
  const note = checkAdapterFitsModel(entry.adapter, base.model.config, base, entry.name);
  return note ? [note] : [];
}

/**
 * A LoRA adapter's ΔW = scaling · B·A per adapted linear, checked against the model (PEFT's
 * semantics, src/core/peft/loraAdapter.ts), cached per model. The blocks of the linears S²FT
 * trains take S²FT's axis (every row of v_proj and up_proj: the same [out, in] array), so LoRA
 * and S²FT adapters fuse.
 */
export function loraBlocks(entry: LoraLike, base: BaseModel): { blocks: FuseBlock[]; notes: string[] } {
  if (entry.checked?.fingerprint !== base.fingerprint) {
    let result: { blocks: FuseBlock[]; notes: string[] } | { error: UserError };
    try {
      const update = loraUpdate(entry.lora, base.model.config, base, entry.name);
      result = { blocks: update.blocks.map(onS2ftAxis), notes: update.notes };
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      result = { error: e };
    }
    entry.checked = { fingerprint: base.fingerprint, result };
  }
  const { result } = entry.checked;
  if ('error' in result) throw result.error;
  return result;
}

function onS2ftAxis(block: FuseBlock): FuseBlock {
  const axis = BLOCK_AXIS[block.module as BlockModule];
  if (axis !== 'rows') return block;
  const [out] = block.shape; // every column of [out, in] = every row
  return { ...block, axis, indices: Int32Array.from({ length: out }, (_, i) => i) };
}

export function summarizeAdapter(entry: AdapterEntry, base: BaseModel | null): AdapterSummary {
  const { fits, message } = fitsModel(entry, base);
  const common = { id: entry.id, name: entry.name, origin: entry.origin, fits, ...(message ? { message } : {}) };
  if (entry.kind === 'lora' || entry.kind === 'peft') {
    const pairs = [...entry.lora.pairs.values()];
    return {
      ...common,
      kind: 'lora',
      baseModel: entry.lora.baseModel ?? { name: 'unknown (not recorded)', fingerprint: '' },
      blocks: pairs.length,
      params: pairs.reduce((n, p) => n + p.A.length + p.B.length, 0),
    };
  }
  const { blocks, info } = entry.adapter;
  return {
    ...common,
    kind: entry.kind,
    baseModel: info.baseModel,
    blocks: blocks.length,
    params: blocks.reduce((n, b) => n + b.delta.length, 0),
  };
}

/**
 * An adapter from its files: one native S²FT .safetensors, a PEFT LoRA zip, or a PEFT folder's
 * files (adapter_config.json and adapter_model.safetensors, picked together); every field checked.
 */
export function importAdapterFiles(
  id: string,
  files: readonly ExportedFile[],
  origin: AdapterSummary['origin'] = 'imported',
): AdapterEntry {
  if (files.length === 0) throw new UserError('bad-argument', 'choose an adapter file');
  const label = files.length === 1 ? files[0].fileName : files.map((f) => f.fileName).join(' + ');
  const decoded =
    files.length === 1
      ? decodeAdapterFile(new Uint8Array(files[0].bytes), label)
      : decodeAdapterFolder(new Map(files.map((f) => [f.fileName, new Uint8Array(f.bytes)])), label);
  return entryOf(id, decoded, label, origin);
}

function entryOf(id: string, decoded: DecodedAdapter, name: string, origin: AdapterSummary['origin']): AdapterEntry {
  if (decoded.kind === 's2ft')
    return { kind: origin === 'fused' ? 'fused' : 's2ft', id, name, origin, adapter: decoded.adapter };
  return { kind: 'peft', id, name, origin, lora: decoded.adapter, files: decoded.files };
}

/** The record the adapter store keeps: the file the studio would download for it. */
export function storedAdapter(entry: AdapterEntry, savedAt: number): StoredAdapter {
  const file = exportAdapterFile(entry, isS2ft(entry) ? 's2ft' : 'peft-zip');
  return { id: entry.id, name: entry.name, origin: entry.origin, ...file, savedAt };
}

/** A stored record as an entry again. */
export function restoreAdapter(record: StoredAdapter): AdapterEntry {
  const entry = importAdapterFiles(record.id, [{ fileName: record.fileName, bytes: record.bytes }], record.origin);
  return { ...entry, name: record.name };
}

/**
 * Σ_i w_i · adapter_i as one adapter: the core's combineUpdates (per module, the union of the
 * index sets and the weighted sum of the deltas, float64, every block checked against the model).
 * LoRA parts enter as their dense ΔW. The result is an S²FT adapter when every block is on a
 * linear S²FT trains, and otherwise a PEFT LoRA one (the exact rank-k form of each block).
 */
export function fuseEntries(id: string, entries: AdapterEntry[], weights: number[], base: BaseModel): AdapterEntry {
  const blocks = fusedBlocks(entries, weights, base);
  const baseModel = { name: base.name, fingerprint: base.fingerprint };
  const dims = adapterDims(base.model.config);
  const name = entries.map((e, i) => `${weights[i]}×${e.name}`).join(' + ');
  if (!blocks.every(isS2ftBlock)) {
    const files = exportPeftLora({ info: { baseModel, dims }, blocks });
    const lora = decodePeftLora(files[PEFT_CONFIG_FILE], files[PEFT_WEIGHTS_FILE], name);
    return { kind: 'peft', id, name, origin: 'fused', lora, files };
  }
  const seed = entries.find(isS2ft)?.adapter.info.selection.seed;
  const info: AdapterInfo = {
    baseModel,
    targetModules: [...new Set(blocks.map((b) => b.module))],
    selection: { strategy: 'fused', seed: seed ?? 0 },
    training: { fusedFrom: entries.map((e, i) => ({ name: e.name, weight: weights[i] })) },
    dims,
  };
  return { kind: 'fused', id, name, origin: 'fused', adapter: { info, blocks } };
}

/** Σ_i w_i · adapter_i as blocks, after checking the weights and that every adapter fits the base. */
function fusedBlocks(entries: AdapterEntry[], weights: number[], base: BaseModel): FuseBlock[] {
  if (entries.length === 0) throw new UserError('bad-argument', 'choose at least one adapter to fuse');
  if (weights.length !== entries.length)
    throw new UserError('bad-argument', `got ${weights.length} weights for ${entries.length} adapters`);
  const badWeight = weights.find((w) => !Number.isFinite(w));
  if (badWeight !== undefined) throw new UserError('bad-argument', `fusion weight ${badWeight} is not a finite number`);
  for (const e of entries) {
    const { fits, message } = fitsModel(e, base);
    if (!fits) throw new UserError('wrong-model', `cannot fuse "${e.name}": ${message}`);
  }
  return combineUpdates(
    base.model.weights,
    entries.map((e, i) => ({ adapter: { blocks: blocksOf(e, base) }, weight: weights[i] })),
  ).map(({ layer, module, axis, indices, update }): FuseBlock => {
    const [rows, cols] = base.model.weights.layers[layer].linear[module].shape;
    const k = indices.length;
    const shape: [number, number] = axis === 'columns' ? [rows, k] : [k, cols];
    return { layer, module, axis, indices, delta: update, shape };
  });
}

function blocksOf(entry: AdapterEntry, base: BaseModel): FuseBlock[] {
  return isS2ft(entry) ? entry.adapter.blocks : loraBlocks(entry, base).blocks;
}

/** A block on a linear S²FT trains, along S²FT's axis: it fits the native file. */
function isS2ftBlock(block: FuseBlock): block is AdapterBlock {
  return (BLOCK_AXIS as Partial<Record<ModuleName, string>>)[block.module] === block.axis;
}

export function exportAdapterFile(entry: AdapterEntry, kind: 's2ft' | 'peft-zip'): ExportedFile {
  if (entry.kind === 'lora' || entry.kind === 'peft') {
    if (kind === 's2ft')
      throw new UserError('unsupported', `"${entry.name}" is a LoRA adapter: export it as a PEFT-LoRA zip`);
    return { fileName: `${safeFileStem(entry.name)}-peft-lora.zip`, bytes: toArrayBuffer(peftZip(entry.files)) };
  }
  if (kind === 's2ft') return s2ftFile(entry);
  return {
    fileName: `${safeFileStem(entry.name)}-peft-lora.zip`,
    bytes: toArrayBuffer(peftZip(exportPeftLora(entry.adapter))),
  };
}

function s2ftFile(entry: S2ftEntry): ExportedFile {
  return {
    fileName: `${safeFileStem(entry.name)}.s2ft.safetensors`,
    bytes: toArrayBuffer(encodeS2ftAdapter(entry.adapter.blocks, entry.adapter.info)),
  };
}

/**
 * The base with Σ w_k · adapter_k added, as the HuggingFace folder `cli fuse` writes (config.json,
 * safetensors in the base's dtype, the base's tokenizer and generation files), zipped under one
 * folder. Safetensors barely compress: the zip stores them as they are.
 */
export async function fusedModelZip(
  entries: AdapterEntry[],
  weights: number[],
  base: BaseModel & { dtype: WeightsDtype; companions: ReadonlyMap<string, Uint8Array> },
): Promise<ExportedFile> {
  const blocks = fusedBlocks(entries, weights, base);
  const fusedWeights = fuseAdapters(base.model.weights, [{ adapter: { blocks }, weight: 1 }]);
  try {
    const files = await writeCheckpoint(base.model.config, fusedWeights, { dtype: base.dtype });
    for (const [name, bytes] of base.companions) files.set(name, bytes);
    const stem = safeFileStem(`${base.name}-fused`);
    const zip = zipSync(Object.fromEntries([...files].map(([name, bytes]) => [`${stem}/${name}`, bytes])), {
      level: 0,
    });
    return { fileName: `${stem}.zip`, bytes: toArrayBuffer(zip) };
  } finally {
    releaseReplacedWeights(fusedWeights, base.model.weights); // the fused copies only: the base stays
  }
}

/** Weights and linear to generate with an adapter; refuses one made for another model. */
export function serveAdapter(entry: AdapterEntry, base: BaseModel): Serving {
  return switchServing(null, entry, base)!;
}

/**
 * The serving for `entry` (null: the base model), made from `current`, which must not be used
 * afterwards. From one S²FT adapter to another only the touched weight elements are rewritten
 * (the serving's private copies, in place on cpu and wasm); anything else is disposed and made
 * anew. An adapter for another model is refused before `current` is touched.
 */
export function switchServing(current: Serving | null, entry: AdapterEntry | null, base: BaseModel): Serving | null {
  if (entry) {
    const { fits, message } = fitsModel(entry, base);
    if (!fits) throw new UserError('wrong-model', `cannot use "${entry.name}": ${message}`);
  }
  const reuse =
    entry !== null && entry.kind !== 'lora' && current?.s2ft?.base === base.model.weights ? current.s2ft : undefined;
  if (!reuse) current?.dispose();
  if (!entry) return null;
  if (entry.kind === 'lora') {
    const lora = prepareLora(base.model, entry.options);
    lora.trainable.forEach((v, i) => tf.tidy(() => v.assign(tf.tensor(entry.trainable[i], v.shape))));
    return { model: base.model, linear: lora.linear, dispose: () => lora.dispose() };
  }
  const s2ft = reuse ?? new ServingWeights(base.model.weights);
  s2ft.switchTo([{ adapter: { blocks: blocksOf(entry, base) }, weight: 1 }]);
  return { model: { config: base.model.config, weights: s2ft.weights }, s2ft, dispose: () => s2ft.dispose() };
}

function safeFileStem(name: string): string {
  return (
    name
      .replace(/\.s2ft\.safetensors$|\.safetensors$/, '')
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .slice(0, 80) || 'adapter'
  );
}

/** A Uint8Array's bytes as a standalone ArrayBuffer (transferable without sharing a larger buffer). */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(out).set(bytes);
  return out;
}
