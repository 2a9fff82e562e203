/**
 * Everything the training worker remembers between calls (the loaded model, the data, the
 * selection, the current run and its trained state, the adapters through adapterRegistry.ts) and the operations of
 * TrainingWorkerApi on it. Free of worker globals: the worker wraps it with comlink, and the
 * tests drive it directly in Node on the cpu backend. Fetch, the checkpoint store and the device
 * limits come in from outside.
 */
import { UserError } from '../src/core/errors';
import { chooseSeqLen, makeBatches, shouldPack } from '../src/core/train/batches';
import { checkTrainConfig, pickTrainConfig, warmupBelowSteps, type TrainConfig } from '../src/core/train/config';
import { parseDataset, type TokenizedExample } from '../src/core/train/data';
import { initialLoraAdapter } from '../src/core/recipe/loraInit';
import type { RecipeMethod } from '../src/core/recipe/recipe';
import { readSelectionFile } from '../src/core/s2ft/selectionFile';
import type { Selection } from '../src/core/s2ft/types';
import type { AnyPreparedMethod } from '../src/core/train/methods';
import type {
  AdapterSummary,
  BuiltinDatasetEntry,
  BuiltinModelEntry,
  CheckpointSummary,
  DataOptions,
  DataSource,
  DataSummary,
  ExportedFile,
  GenerateOutput,
  GenerateRequest,
  MemoryInfo,
  ModelLoadProgress,
  ModelSource,
  ModelSummary,
  ProgressCallback,
  RunSummary,
  SelectConfig,
  SelectionSummary,
  TrainEvent,
  TrainRequest,
  WeightView,
  WeightViewRequest,
  BackendName,
  TrainingWorkerApi,
} from './api';
import { AdapterRegistry, type ServingLease } from './adapterRegistry';
import type { BaseModel } from './adapters';
import type { AdapterStore } from './adapterStore';
import type { CheckpointRecord, CheckpointStore } from './checkpoints';
import { loadData, readDataSource, type LoadedData } from './dataLoader';
import { loadModel, type DeviceLimits, type LoadedModel } from './modelLoader';
import { modelForResume } from './resumeModel';
import { generateWith, promptIds } from './generation';
import { countsOf, selectForStudio, summarizeSelection, weightView } from './selectionView';
import { recipeZip } from './recipe';
import { TrainingRun } from './trainingRun';
import { deviceMemory } from './deviceMemory';

export interface SessionDeps {
  fetch: typeof fetch;
  /** Base URLs of the app's public/models and public/datasets. */
  modelsBase: string;
  datasetsBase: string;
  limits: DeviceLimits;
  checkpoints: CheckpointStore | null;
  /** Where adapters are kept across reloads (IndexedDB in the worker); null keeps them for the session only. */
  adapters: AdapterStore | null;
  backend: () => BackendName;
}

/** Calibration batches for score-based selection strategies. */
const CALIBRATION = { batchSize: 4, seqLen: 64 };
const DEFAULT_CALIBRATION_BATCHES = 4;

/** The worker's calls besides the backend, the smoke test and the device watch (training.worker.ts forwards them). */
export type SessionApi = Omit<TrainingWorkerApi, 'initBackend' | 'smokeTrain' | 'watchDevice'>;

export class StudioSession implements SessionApi {
  private loaded: LoadedModel | null = null;
  private data: LoadedData | null = null;
  private selection: Selection | null = null;
  private selectionMeta: { strategy: string; pick?: 'large' | 'small'; seed: number } = { strategy: 'file', seed: 0 };
  private run: TrainingRun | null = null;
  /** Set synchronously when a run starts (before its first await), so a second start is refused. */
  private busy = false;
  /** The last run's trained state ('current' in generate), until the next run or model. */
  private current: { prepared: AnyPreparedMethod; summary: RunSummary } | null = null;
  private readonly adapters: AdapterRegistry;
  private nextRun = 1;

  constructor(private readonly deps: SessionDeps) {
    this.adapters = new AdapterRegistry(deps.adapters);
  }

  // ---- model ----------------------------------------------------------------------------------

  async listBuiltinModels(): Promise<BuiltinModelEntry[]> {
    const index = await this.fetchJson(`${this.deps.modelsBase}index.json`);
    const models = (index as { models?: unknown } | null)?.models;
    return Array.isArray(models) ? (models as BuiltinModelEntry[]) : [];
  }

  async loadModel(source: ModelSource, onProgress?: ProgressCallback<ModelLoadProgress>): Promise<ModelSummary> {
    this.requireIdle('load a model');
    const loaded = await loadModel(await this.withIndexEntry(source), this.deps.limits, this.deps.fetch, onProgress);
    this.releaseModelState();
    this.loaded = loaded;
    return loaded.summary;
  }

  /** A built-in source takes what it does not say (files, held-out text) from its /models/index.json entry. */
  private async withIndexEntry(source: ModelSource): Promise<ModelSource> {
    if (source.kind !== 'builtin' || (source.files && source.heldout)) return source;
    const resolve = (url: string) => new URL(url.endsWith('/') ? url : `${url}/`, this.deps.modelsBase).href;
    const entry = (await this.listBuiltinModels()).find(
      (m) => typeof m.url === 'string' && resolve(m.url) === resolve(source.url),
    );
    return entry
      ? {
          ...source,
          files: source.files ?? entry.files,
          heldout: source.heldout ?? entry.heldout,
          name: source.name ?? entry.name,
        }
      : source;
  }

  // ---- data -----------------------------------------------------------------------------------

  async listBuiltinDatasets(): Promise<BuiltinDatasetEntry[]> {
    const index = await this.fetchJson(`${this.deps.datasetsBase}index.json`);
    const datasets = (index as { datasets?: unknown } | null)?.datasets;
    return Array.isArray(datasets) ? (datasets as BuiltinDatasetEntry[]) : [];
  }

  async loadData(source: DataSource, options: DataOptions): Promise<DataSummary> {
    const model = this.requireModel();
    this.requireIdle('load data');
    this.data = await loadData(
      source,
      options,
      model.tokenizer,
      model.model.config.vocabSize,
      this.deps.datasetsBase,
      this.deps.fetch,
    );
    return this.data.summary;
  }

  // ---- selection ------------------------------------------------------------------------------

  async select(config: SelectConfig): Promise<SelectionSummary> {
    const model = this.requireModel();
    const calibration =
      config.strategy === 'random' || config.strategy === 'weight'
        ? []
        : this.calibrationBatches(config.calibrationBatches);
    const summary = await selectForStudio(model.model, config, calibration);
    this.selection = summary.selection;
    this.selectionMeta = { strategy: config.strategy, pick: config.pick, seed: config.seed };
    return summary;
  }

  async useSelectionFile(text: string, fileName: string): Promise<SelectionSummary> {
    const model = this.requireModel();
    const selection = readSelectionFile(text, model.model.config, fileName);
    this.selection = selection;
    this.selectionMeta = { strategy: 'file', seed: 0 };
    return summarizeSelection(model.model.config, selection, null, countsOf(selection), null);
  }

  weightView(request: WeightViewRequest): Promise<WeightView> {
    return weightView(this.requireModel().model, this.selection, request);
  }

  // ---- training -------------------------------------------------------------------------------

  async train(config: TrainRequest, onEvent: ProgressCallback<TrainEvent>): Promise<RunSummary> {
    return this.exclusive('start training', () => this.startRun(config, onEvent, undefined));
  }

  async pause(): Promise<void> {
    await this.run?.pause();
  }

  async resume(): Promise<void> {
    this.run?.resume();
  }

  async stop(): Promise<void> {
    this.run?.stop();
  }

  async listCheckpoints(): Promise<CheckpointSummary[]> {
    return this.deps.checkpoints ? this.deps.checkpoints.list() : [];
  }

  async deleteCheckpoint(runId: string): Promise<void> {
    await this.deps.checkpoints?.delete(runId);
  }

  async resumeTraining(runId: string, onEvent: ProgressCallback<TrainEvent>): Promise<RunSummary> {
    return this.exclusive('resume a run', () => this.resumeRun(runId, onEvent));
  }

  private async resumeRun(runId: string, onEvent: ProgressCallback<TrainEvent>): Promise<RunSummary> {
    const record = await this.deps.checkpoints?.get(runId);
    if (!record)
      throw new UserError('missing-file', `no checkpoint for run "${runId}" (it finished, or its storage was cleared)`);
    const reloaded = await modelForResume(record, this.loaded, this.deps.limits, this.deps.fetch);
    if (reloaded) {
      this.releaseModelState();
      this.loaded = reloaded;
    }
    const model = this.requireModel();
    this.data = await loadData(
      record.data.source,
      record.data.options,
      model.tokenizer,
      model.model.config.vocabSize,
      this.deps.datasetsBase,
      this.deps.fetch,
    );
    this.selection = record.selection;
    return this.startRun(record.config, onEvent, record);
  }

  private async startRun(
    request: TrainRequest,
    onEvent: ProgressCallback<TrainEvent>,
    resumeFrom: CheckpointRecord | undefined,
  ): Promise<RunSummary> {
    const model = this.requireModel();
    if (!this.data) throw new UserError('bad-argument', 'load a dataset before training');
    const config: TrainRequest = { ...request, ...this.runnable(request) };
    if (config.method === 's2ft' && !this.selection)
      throw new UserError('bad-argument', 'choose heads and channels (Selection) before training with S²FT');
    const data = this.data;
    const selection = config.method === 's2ft' ? this.selection : null;
    const heldoutPath = config.heldout === 'none' ? null : (config.heldout ?? model.heldout);
    const heldout = await this.heldoutExamples(heldoutPath);
    // The checkpoint records the held-out text actually used, so a resume meters the same one.
    const savedConfig: TrainRequest = { ...config, heldout: heldoutPath ?? 'none' };
    this.releaseCurrent();
    const runId = resumeFrom?.summary.runId ?? `run-${Date.now().toString(36)}-${this.nextRun++}`;
    const name =
      config.name ?? resumeFrom?.summary.name ?? `${config.method} ${new Date().toISOString().slice(11, 19)}`;
    const run = new TrainingRun({
      runId,
      name,
      config,
      model: model.model,
      modelName: model.name,
      tokenizer: model.tokenizer,
      selection,
      data: {
        name: data.name,
        train: data.train,
        validation: data.validation,
        eosTokenId: data.eosTokenId,
        packed: data.packed,
      },
      heldout,
      store: this.deps.checkpoints,
      resumeFrom,
      provenance: {
        config: savedConfig,
        model: { fingerprint: model.fingerprint, source: model.source },
        data: { source: data.source, options: data.options },
      },
    });
    this.run = run;
    try {
      const { summary, prepared } = await run.run((event) => onEvent(event));
      const adapterId = await this.adapters.addRun(prepared, summary, this.baseModel()!, selection, this.selectionMeta);
      const final = { ...summary, adapterId };
      this.current = { prepared, summary: final };
      return final;
    } finally {
      this.run = null;
    }
  }

  /** Tokenized held-out text (a path under /datasets) for the forgetting meter, or null (none, or no tokenizer). */
  private async heldoutExamples(path: string | null): Promise<TokenizedExample[] | null> {
    const model = this.requireModel();
    if (!path || !model.tokenizer) return null;
    const { name, text } = await readDataSource({ kind: 'builtin', path }, this.deps.datasetsBase, this.deps.fetch);
    const parsed = parseDataset(text, name, { tokenizer: model.tokenizer, vocabSize: model.model.config.vocabSize });
    return parsed.examples;
  }

  // ---- generation and adapters ----------------------------------------------------------------

  async generate(prompt: string | number[], options: GenerateRequest): Promise<GenerateOutput> {
    const model = this.requireModel();
    const ids = promptIds(prompt, options.chat ?? false, model.tokenizer);
    const started = performance.now();
    await this.adapters.restore();
    const which = options.adapters ?? this.adapters.activeId ?? 'base';
    return this.adapters.track(generateWith(this.servingFor(which), ids, options, model.tokenizer, started));
  }

  async exportAdapter(kind: 's2ft' | 'peft-zip', adapterId?: string): Promise<ExportedFile> {
    const id = adapterId ?? this.current?.summary.adapterId;
    if (!id)
      throw new UserError(
        'bad-argument',
        this.current?.summary.method === 'full'
          ? 'full fine-tuning leaves no adapter to export (it changes every weight)'
          : 'train a model with S²FT or LoRA first, or choose an adapter to export',
      );
    return await this.adapters.export(id, kind);
  }

  /**
   * The PyTorch recipe of the run `config` would start: the same method (S²FT's selection, LoRA's
   * initial adapter, or every weight), the training split's tokens in the studio's order,
   * optimizer, schedule and loss, as a zip.
   */
  async exportRecipe(config: TrainConfig): Promise<ExportedFile> {
    const model = this.requireModel();
    if (!this.data) throw new UserError('bad-argument', 'load a dataset before exporting the PyTorch recipe');
    return recipeZip({
      model: { path: model.name, name: model.name, fingerprint: model.fingerprint },
      data: {
        source: this.data.name,
        examples: this.data.train,
        pack: this.data.packed,
        eosTokenId: this.data.eosTokenId,
      },
      method: await this.recipeMethod(config, model),
      training: this.runnable(config),
    });
  }

  private async recipeMethod(config: TrainConfig, model: LoadedModel): Promise<RecipeMethod> {
    if (config.method === 'full') return { kind: 'full' };
    if (config.method === 'lora') return { kind: 'lora', init: await initialLoraAdapter(model.model, model, config) };
    if (!this.selection)
      throw new UserError('bad-argument', 'choose heads and channels (Selection) before exporting the PyTorch recipe');
    return { kind: 's2ft', selection: this.selection, selectionInfo: this.selectionMeta };
  }

  async importAdapter(name: string, bytes: ArrayBuffer): Promise<AdapterSummary> {
    return this.adapters.importFiles([{ fileName: name, bytes }], this.baseModel());
  }

  async importAdapterFiles(files: ExportedFile[]): Promise<AdapterSummary> {
    return this.adapters.importFiles(files, this.baseModel());
  }

  async restoreAdapters(): Promise<string[]> {
    return this.adapters.restore();
  }

  async deleteAdapter(id: string): Promise<void> {
    await this.adapters.delete(id);
  }

  async listAdapters(): Promise<AdapterSummary[]> {
    return this.adapters.list(this.baseModel());
  }

  async fuse(ids: string[], weights: number[]): Promise<AdapterSummary> {
    const base = this.baseModel();
    if (!base) throw new UserError('bad-argument', 'load a model before fusing adapters');
    return this.adapters.fuse(ids, weights, base);
  }

  async exportFusedModel(ids: string[], weights: number[]): Promise<ExportedFile> {
    const base = this.baseModel();
    if (!base) throw new UserError('bad-argument', 'load a model before downloading a fused model');
    const { dtype, companions } = this.requireModel();
    return this.adapters.fusedModel(ids, weights, { ...base, dtype, companions });
  }

  async switchTo(id: string): Promise<void> {
    const base = this.baseModel();
    if (!base) throw new UserError('bad-argument', 'load a model first');
    await this.adapters.switchTo(id, base);
  }

  async memory(): Promise<MemoryInfo> {
    return { backend: this.deps.backend(), ...deviceMemory() };
  }

  /** Frees every tensor the session holds (tests; the worker before it closes). */
  dispose(): void {
    this.releaseModelState();
  }

  // ---- helpers --------------------------------------------------------------------------------

  /** Weights and linear for 'base', 'current' or an adapter id; `release` frees what was made for this call only. */
  private servingFor(which: string): ServingLease {
    const base = this.requireModel().model;
    if (which === 'base') return { model: base, release: () => undefined };
    if (which === 'current') {
      if (!this.current) throw new UserError('bad-argument', 'there is no trained state yet: train first');
      const { prepared } = this.current;
      return {
        model: { config: base.config, weights: prepared.weights },
        linear: prepared.linear,
        release: () => undefined,
      };
    }
    return this.adapters.lease(which, this.baseModel()!);
  }

  /**
   * The training fields of a request as a run uses them: checked, seqLen chosen from the data when 0,
   * the warm-up below the steps.
   */
  private runnable(request: TrainConfig): TrainConfig {
    const config = checkTrainConfig(pickTrainConfig(request));
    const data = this.data!;
    const maxPositions = this.requireModel().model.config.maxPositionEmbeddings;
    const seqLen = chooseSeqLen({ examples: data.train, pack: data.packed }, config.seqLen, maxPositions);
    return warmupBelowSteps({ ...config, seqLen });
  }

  private calibrationBatches(count = DEFAULT_CALIBRATION_BATCHES) {
    if (!this.data)
      throw new UserError('bad-argument', 'score-based selection needs the training data: load a dataset first');
    return makeBatches(
      { examples: this.data.train, eosTokenId: this.data.eosTokenId },
      {
        ...CALIBRATION,
        seed: 0,
        pack: shouldPack(this.data),
        shuffle: false,
      },
    ).slice(0, count);
  }

  private baseModel(): BaseModel | null {
    return this.loaded
      ? {
          model: this.loaded.model,
          name: this.loaded.name,
          fingerprint: this.loaded.fingerprint,
          sampledFingerprint: this.loaded.sampledFingerprint,
        }
      : null;
  }

  private requireModel(): LoadedModel {
    if (!this.loaded) throw new UserError('bad-argument', 'load a model first');
    return this.loaded;
  }

  private requireIdle(what: string): void {
    if (this.busy) throw new UserError('bad-argument', `a run is in progress: stop it to ${what}`);
  }

  private async exclusive<T>(what: string, f: () => Promise<T>): Promise<T> {
    this.requireIdle(what);
    this.busy = true;
    try {
      return await f();
    } finally {
      this.busy = false;
    }
  }

  private releaseCurrent(): void {
    this.current?.prepared.dispose();
    this.current = null;
  }

  private releaseModelState(): void {
    this.releaseCurrent();
    this.adapters.releaseServing();
    this.loaded?.dispose();
    this.loaded = null;
    this.data = null;
    this.selection = null;
  }

  private async fetchJson(url: string): Promise<unknown> {
    const response = await this.deps.fetch(url);
    if (!response.ok) return null;
    try {
      return await response.json();
    } catch {
      return null;
    }
  }
}
