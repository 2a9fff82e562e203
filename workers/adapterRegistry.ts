/**
 * The worker's adapters: those its runs left, those imported and those fused, by id, and the one
 * generate() uses by default (switchTo), fused into a serving copy of the touched weights. The
 * session owns one registry; the page sees only AdapterSummary records (listAdapters).
 */
import { UserError } from '../src/core/errors';
import { adapterDims } from '../src/core/s2ft/adapter';
import type { Selection } from '../src/core/s2ft/types';
import { loraAlpha } from '../src/core/train/config';
import type { PreparedLora } from '../src/core/train/lora';
import type { AnyPreparedMethod } from '../src/core/train/methods';
import type { PreparedS2ft } from '../src/core/train/s2ft';
import type { AdapterSummary, ExportedFile, RunSummary } from './api';
import {
  exportAdapterFile,
  fuseEntries,
  importS2ftAdapter,
  serveAdapter,
  summarizeAdapter,
  switchServing,
  type AdapterEntry,
  type BaseModel,
  type S2ftEntry,
  type Serving,
} from './adapters';

/** Weights and linear to generate with; `release` frees what was made for this one call. */
export type ServingLease = Pick<Serving, 'model' | 'linear'> & { release(): void };

/** How an S²FT selection was made, recorded in the adapter file. */
export type SelectionProvenance = { strategy: string; pick?: 'large' | 'small'; seed: number };

export class AdapterRegistry {
  private readonly entries = new Map<string, AdapterEntry>();
  private active: { id: string; serving: Serving } | null = null;
  /** Generations in flight (switchTo waits for them: it rewrites the serving copy in place). */
  private readonly generations = new Set<Promise<unknown>>();
  private nextId = 1;

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
        id: this.newId(),
        name: summary.name,
        origin: 'trained',
        adapter: { blocks, info },
      });
    }
    if (prepared.name === 'lora') {
      const lora = prepared as PreparedLora;
      const { settings } = summary;
      return this.add({
        kind: 'lora',
        id: this.newId(),
        name: summary.name,
        origin: 'trained',
        baseModel,
        options: { rank: settings.loraRank, alpha: loraAlpha(settings), seed: settings.seed },
        trainable: await Promise.all(lora.trainable.map(async (v) => Float32Array.from(await v.data()))),
        params: lora.stats().trainableParams,
      });
    }
    return null;
  }

  importFile(name: string, bytes: ArrayBuffer, base: BaseModel | null): AdapterSummary {
    const entry = importS2ftAdapter(this.newId(), name, bytes);
    this.add(entry);
    return summarizeAdapter(entry, base);
  }

  list(base: BaseModel | null): AdapterSummary[] {
    return [...this.entries.values()].map((e) => summarizeAdapter(e, base));
  }

  fuse(ids: string[], weights: number[], base: BaseModel): AdapterSummary {
    const parts = ids.map((id) => {
      const entry = this.entry(id);
      if (entry.kind === 'lora')
        throw new UserError('unsupported', `"${entry.name}" is a LoRA adapter; only S²FT adapters can be fused`);
      return entry as S2ftEntry;
    });
    const fused = fuseEntries(this.newId(), parts, weights, base);
    this.add(fused);
    return summarizeAdapter(fused, base);
  }

  export(id: string, kind: 's2ft' | 'peft-zip', base: BaseModel | null): Promise<ExportedFile> {
    return exportAdapterFile(this.entry(id), kind, base);
  }

  async switchTo(id: string, base: BaseModel): Promise<void> {
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

  private add(entry: AdapterEntry): string {
    this.entries.set(entry.id, entry);
    return entry.id;
  }

  private newId(): string {
    return `adapter-${this.nextId++}`;
  }
}
