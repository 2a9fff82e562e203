/**
 * The worker's adapters: those its runs left, those imported and those fused, by id, and the one
 * generate() uses by default (switchTo), fused into a serving copy of the touched weights. Each
 * is written to the adapter store (IndexedDB in the browser) when it is added and read back when
 * the worker starts: the store is their only home, the page sees only AdapterSummary records.
 */
import { UserError } from '../src/core/errors';
import { decodePeftLora } from '../src/core/peft/loraAdapter';
import { adapterDims } from '../src/core/s2ft/adapter';
import { PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE } from '../src/core/s2ft/peft';
import type { Selection } from '../src/core/s2ft/types';
import { loraAlpha } from '../src/core/train/config';
import type { PreparedLora } from '../src/core/train/lora';
import type { AnyPreparedMethod } from '../src/core/train/methods';
import type { PreparedS2ft } from '../src/core/train/s2ft';
import type { AdapterSummary, ExportedFile, RunSummary } from './api';
import {
  exportAdapterFile,
  fuseEntries,
  fusedModelZip,
  importAdapterFiles,
  restoreAdapter,
  serveAdapter,
  storedAdapter,
  summarizeAdapter,
  switchServing,
  type AdapterEntry,
  type BaseModel,
  type Serving,
} from './adapters';
import type { AdapterStore } from './adapterStore';

/** Weights and linear to generate with; `release` frees what was made for this one call. */
export type ServingLease = Pick<Serving, 'model' | 'linear'> & { release(): void };

/** How an S²FT selection was made, recorded in the adapter file. */
export type SelectionProvenance = { strategy: string; pick?: 'large' | 'small'; seed: number };

export class AdapterRegistry {
  private readonly entries = new Map<string, AdapterEntry>();
  private active: { id: string; serving: Serving } | null = null;
  /** Generations in flight (switchTo waits for them: it rewrites the serving copy in place). */
  private readonly generations = new Set<Promise<unknown>>();
  private restored: Promise<string[]> | null = null;

  constructor(private readonly store: AdapterStore | null) {}

  /**
   * Reads the stored adapters in (once); resolves to a note per record that could not be read
   * (it stays stored: nothing is deleted behind the person's back).
   */
  restore(): Promise<string[]> {
    this.restored ??= (async () => {
      const problems: string[] = [];
      for (const record of (await this.store?.list()) ?? []) {
        try {
          this.entries.set(record.id, restoreAdapter(record));
        } catch (e) {
          problems.push(`stored adapter "${record.name}" could not be read: ${(e as Error).message}`);
        }
      }
      return problems;
    })();
    return this.restored;
  }

  get activeId(): string | null {
    return this.active?.id ?? null;
  }

  /** S²FT and LoRA runs leave an adapter; full FT (or a run with no step) leaves none. */
  async addRun(
    prepared: AnyPreparedMethod,
    summary: RunSummary,
    base: BaseModel,
    selection: Selection | null,
    provenance: SelectionProvenance,
  ): Promise<string | null> {
    if (summary.stepsDone === 0) return null;
    const baseModel = { name: base.name, fingerprint: base.fingerprint };
    if (prepared.name === 's2ft' && selection) {
      const blocks = await (prepared as PreparedS2ft).blocks();
      if (blocks.length === 0) return null;
      const info = {
        baseModel,
        targetModules: [...new Set(blocks.map((b) => b.module))],
        selection: provenance,
        training: { ...summary.settings, stepsDone: summary.stepsDone },
        dims: adapterDims(base.model.config),
      };
      return this.add({
        kind: 's2ft',
        id: newId(),
        name: summary.name,
        origin: 'trained',
        adapter: { blocks, info },
      });
    }
    if (prepared.name === 'lora') {
      const lora = prepared as PreparedLora;
      const { settings } = summary;
      const files = await lora.exportPeft(baseModel);
      return this.add({
        kind: 'lora',
        id: newId(),
        name: summary.name,
        origin: 'trained',
        lora: decodePeftLora(files[PEFT_CONFIG_FILE], files[PEFT_WEIGHTS_FILE], summary.name),
        files,
        options: { rank: settings.loraRank, alpha: loraAlpha(settings), seed: settings.seed },
        trainable: await Promise.all(lora.trainable.map(async (v) => Float32Array.from(await v.data()))),
      });
    }
    return null;
  }

  async importFiles(files: readonly ExportedFile[], base: BaseModel | null): Promise<AdapterSummary> {
    await this.restore();
    const entry = importAdapterFiles(newId(), files);
    await this.add(entry);
    return summarizeAdapter(entry, base);
  }

  async list(base: BaseModel | null): Promise<AdapterSummary[]> {
    await this.restore();
    return [...this.entries.values()].map((e) => summarizeAdapter(e, base));
  }

  async fuse(ids: string[], weights: number[], base: BaseModel): Promise<AdapterSummary> {
    await this.restore();
    const fused = fuseEntries(
      newId(),
      ids.map((id) => this.entry(id)),
      weights,
      base,
    );
    await this.add(fused);
    return summarizeAdapter(fused, base);
  }

  async export(id: string, kind: 's2ft' | 'peft-zip'): Promise<ExportedFile> {
    await this.restore();
    return exportAdapterFile(this.entry(id), kind);
  }

  /** The base with Σ w_k · adapter_k added, as a zipped HuggingFace folder. */
  async fusedModel(ids: string[], weights: number[], base: Parameters<typeof fusedModelZip>[2]): Promise<ExportedFile> {
    await this.restore();
    return fusedModelZip(
      ids.map((id) => this.entry(id)),
      weights,
      base,
    );
  }

  /** Forgets an adapter here and in the store (the base model is served if it was in use). */
  async delete(id: string): Promise<void> {
    await this.restore();
    this.entry(id);
    if (this.active?.id === id) this.releaseServing();
    this.entries.delete(id);
    await this.store?.delete(id);
  }

  async switchTo(id: string, base: BaseModel): Promise<void> {
    await this.restore();
    await Promise.allSettled(this.generations);
    const serving = switchServing(this.active?.serving ?? null, id === 'base' ? null : this.entry(id), base);
    this.active = serving ? { id, serving } : null;
  }

  /** The adapter `id` applied to the base: the active serving copy, or one made for this call. */
  lease(id: string, base: BaseModel): ServingLease {
    if (this.active?.id === id) return { ...this.active.serving, release: () => undefined };
    const serving = serveAdapter(this.entry(id), base);
    return { model: serving.model, linear: serving.linear, release: () => serving.dispose() };
  }

  /** Counts a generation in flight until it settles. */
  async track<T>(generation: Promise<T>): Promise<T> {
    this.generations.add(generation);
    try {
      return await generation;
    } finally {
      this.generations.delete(generation);
    }
  }

  /** Frees the serving copy (a new model makes it stale); the adapters themselves stay. */
  releaseServing(): void {
    this.active?.serving.dispose();
    this.active = null;
  }

  private entry(id: string): AdapterEntry {
    const entry = this.entries.get(id);
    if (!entry) throw new UserError('bad-argument', `no adapter with id "${id}"`);
    return entry;
  }

  /** Keeps the entry here and in the store; a store that refuses (quota) fails the action that added it. */
  private async add(entry: AdapterEntry): Promise<string> {
    await this.restore();
    await this.store?.put(storedAdapter(entry, Date.now()));
    this.entries.set(entry.id, entry);
    return entry.id;
  }
}

/** Ids stay unique across reloads: the store keeps the old ones. */
function newId(): string {
  return `adapter-${crypto.randomUUID()}`;
}
