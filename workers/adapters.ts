/**
 * The adapters a session knows: S²FT adapters trained here, imported from a file, or fused from
 * others, and LoRA adapters trained here. Each can be checked against the loaded model, exported,
 * and served for generation (S²FT: fused into private copies of the touched weights, switched in
 * place, paper §6 and src/core/s2ft/servingWeights.ts; LoRA: its linear on the frozen base).
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/core/errors';
import type { LinearFn, LlamaModel } from '../src/core/model/types';
import {
  adapterDims,
  checkAdapterFitsModel,
  decodeS2ftAdapter,
  encodeS2ftAdapter,
  type AdapterInfo,
  type S2ftAdapter,
} from '../src/core/s2ft/adapter';
import { exportPeftLora, peftZip } from '../src/core/s2ft/peft';
import { combineUpdates } from '../src/core/s2ft/fuse';
import { ServingWeights } from '../src/core/s2ft/servingWeights';
import type { AdapterBlock, BlockModule } from '../src/core/s2ft/types';
import { prepareLora, type LoraOptions } from '../src/core/train/lora';
import type { AdapterSummary, ExportedFile } from './api';

export interface S2ftEntry {
  kind: 's2ft' | 'fused';
  id: string;
  name: string;
  origin: AdapterSummary['origin'];
  adapter: S2ftAdapter;
}

export interface LoraEntry {
  kind: 'lora';
  id: string;
  name: string;
  origin: 'trained';
  baseModel: { name: string; fingerprint: string };
  options: LoraOptions;
  /** The trained A and B of every adapted module, in prepareLora's trainable order. */
  trainable: Float32Array[];
  params: number;
}

export type AdapterEntry = S2ftEntry | LoraEntry;

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
  if (entry.kind === 'lora') {
    const fits = entry.baseModel.fingerprint === base.fingerprint;
    return fits
      ? { fits }
      : {
          fits,
          message: `adapter was made for another base model: it was trained on "${entry.baseModel.name}" (fingerprint ${entry.baseModel.fingerprint}), the loaded model is "${base.name}" (fingerprint ${base.fingerprint})`,
        };
  }
  try {
    checkAdapterFitsModel(entry.adapter, base.model.config, base, entry.name);
    return { fits: true };
  } catch (e) {
    if (e instanceof UserError) return { fits: false, message: e.message };
    throw e;
  }
}

export function summarizeAdapter(entry: AdapterEntry, base: BaseModel | null): AdapterSummary {
  const { fits, message } = fitsModel(entry, base);
  const common = { id: entry.id, name: entry.name, origin: entry.origin, fits, ...(message ? { message } : {}) };
  if (entry.kind === 'lora') {
    return {
      ...common,
      kind: 'lora',
      baseModel: entry.baseModel,
      blocks: entry.trainable.length / 2,
      params: entry.params,
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

/** Decodes a native adapter file (every field checked) into an entry; fit is judged separately. */
export function importS2ftAdapter(id: string, name: string, bytes: ArrayBuffer): S2ftEntry {
  if (isZip(bytes)) {
    throw new UserError(
      'unsupported',
      'this is a zip (a PEFT-LoRA export?); import the native S²FT adapter file (.safetensors) instead',
      name,
    );
  }
  return { kind: 's2ft', id, name, origin: 'imported', adapter: decodeS2ftAdapter(new Uint8Array(bytes), name) };
}

function isZip(bytes: ArrayBuffer): boolean {
  const head = new Uint8Array(bytes, 0, Math.min(4, bytes.byteLength));
  return head.length === 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}

/**
 * Σ_i w_i · adapter_i as one adapter: the core's combineUpdates (per module, the union of the
 * index sets and the weighted sum of the deltas, float64, every block checked against the model).
 */
export function fuseEntries(id: string, entries: S2ftEntry[], weights: number[], base: BaseModel): S2ftEntry {
  if (entries.length === 0) throw new UserError('bad-argument', 'choose at least one adapter to fuse');
  if (weights.length !== entries.length)
    throw new UserError('bad-argument', `got ${weights.length} weights for ${entries.length} adapters`);
  const badWeight = weights.find((w) => !Number.isFinite(w));
  if (badWeight !== undefined) throw new UserError('bad-argument', `fusion weight ${badWeight} is not a finite number`);
  for (const e of entries) {
    const { fits, message } = fitsModel(e, base);
    if (!fits) throw new UserError('wrong-model', `cannot fuse "${e.name}": ${message}`);
  }
  const blocks = combineUpdates(
    base.model.weights,
    entries.map((e, i) => ({ adapter: e.adapter, weight: weights[i] })),
  ).map(({ layer, module, axis, indices, update }): AdapterBlock => {
    const [rows, cols] = base.model.weights.layers[layer].linear[module].shape;
    const k = indices.length;
    const shape: [number, number] = axis === 'columns' ? [rows, k] : [k, cols];
    // Every part is an S²FT adapter's block, so the module is one S²FT trains.
    return { layer, module: module as BlockModule, axis, indices, delta: update, shape };
  });
  const first = entries[0].adapter.info;
  const info: AdapterInfo = {
    baseModel: { name: base.name, fingerprint: base.fingerprint },
    targetModules: [...new Set(blocks.map((b) => b.module))],
    selection: { strategy: 'fused', seed: first.selection.seed },
    training: { fusedFrom: entries.map((e, i) => ({ name: e.name, weight: weights[i] })) },
    dims: adapterDims(base.model.config),
  };
  const name = entries.map((e, i) => `${weights[i]}×${e.name}`).join(' + ');
  return { kind: 'fused', id, name, origin: 'fused', adapter: { info, blocks } };
}

export async function exportAdapterFile(
  entry: AdapterEntry,
  kind: 's2ft' | 'peft-zip',
  base: BaseModel | null,
): Promise<ExportedFile> {
  const stem = safeFileStem(entry.name);
  if (entry.kind === 'lora') {
    if (kind === 's2ft')
      throw new UserError('unsupported', `"${entry.name}" is a LoRA adapter: export it as a PEFT-LoRA zip`);
    if (!base || base.fingerprint !== entry.baseModel.fingerprint)
      throw new UserError('wrong-model', `load "${entry.baseModel.name}" to export this LoRA adapter`);
    const lora = prepareLora(base.model, entry.options);
    try {
      lora.trainable.forEach((v, i) => tf.tidy(() => v.assign(tf.tensor(entry.trainable[i], v.shape))));
      return {
        fileName: `${stem}-peft-lora.zip`,
        bytes: toArrayBuffer(peftZip(await lora.exportPeft(entry.baseModel))),
      };
    } finally {
      lora.dispose();
    }
  }
  if (kind === 's2ft') {
    return {
      fileName: `${stem}.s2ft.safetensors`,
      bytes: toArrayBuffer(encodeS2ftAdapter(entry.adapter.blocks, entry.adapter.info)),
    };
  }
  return { fileName: `${stem}-peft-lora.zip`, bytes: toArrayBuffer(peftZip(exportPeftLora(entry.adapter))) };
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
  s2ft.switchTo([{ adapter: entry.adapter, weight: 1 }]);
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
