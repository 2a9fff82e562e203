/**
 * The one interface between the UI and the training worker (comlink).
 * Only plain objects, numbers, strings, typed arrays and ArrayBuffers cross it: tensors and GPU
 * memory stay in the worker. Callbacks travel as `Comlink.proxy(fn)`.
 *
 * Errors: a method that fails rejects with an Error whose message is written for a person
 * (comlink keeps `message` and `name`; a user-caused error has name 'UserError'). A training run
 * never rejects for a diverged loss: it resolves with status 'error' and `error` set, after the
 * same information went out as a 'phase' event.
 *
 * Events travel on the callback's own MessagePort; the worker waits until the page has run the
 * last one before a call resolves (training.worker.ts withCallbacks), so train() and
 * resumeTraining() resolve after their final 'phase' event has been handled. stop() and pause()
 * take effect between steps, at the first step boundary after they arrive. ARCHITECTURE.md
 * "A training run" follows a run through this interface.
 *
 * Checkpoints (resume after a reload or a lost GPU) are written by the worker itself into
 * IndexedDB (database "s2ft-studio-checkpoints", store "checkpoints", one record per run, overwritten
 * every checkpointInterval(config) steps): no copy of the trainable state crosses to the page. The UI lists
 * them with listCheckpoints() and continues one with resumeTraining(runId).
 */
import type { ModelConfig } from '../src/core/model/types';
import type { Strategy } from '../src/core/s2ft/strategies';
import type { Selection } from '../src/core/s2ft/types';
import type { TrainConfig } from '../src/core/train/config';
import type { MethodName } from '../src/core/train/method';

export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';

/** How the wasm backend runs: SIMD, and its thread count (workers/wasmBackend.ts says when more than one). */
export interface WasmFeatures {
  simd: boolean;
  threads: number;
  /** Why threads are not used (the page is not isolated, or the threaded build did not start); null when they are. */
  oneThread: string | null;
}

/** A faster backend that was tried and not used, with the reason in plain words. */
export interface BackendRefusal {
  backend: BackendName;
  reason: string;
}

/** What the browser says about the WebGPU adapter (all optional in the spec, so strings may be ''). */
export interface GpuAdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for software adapters such as SwiftShader: correct numbers, CPU speed. */
  isFallbackAdapter: boolean;
  limits: {
    maxBufferSize: number;
    maxStorageBufferBindingSize: number;
    maxComputeWorkgroupStorageSize: number;
    maxComputeInvocationsPerWorkgroup: number;
    maxStorageBuffersPerShaderStage: number;
  };
}

export interface BackendInfo {
  /** The tfjs backend all work in this worker runs on. */
  backend: BackendName;
  refused: BackendRefusal[];
  /** Present whenever the browser handed out a WebGPU adapter, even if tfjs then refused it. */
  adapter: GpuAdapterSummary | null;
  /** Present when the backend is wasm. */
  wasm?: WasmFeatures;
}

export interface SmokeTrainProgress {
  step: number;
  steps: number;
  loss: number;
  /** Wall time of this step; the first one includes compiling GPU kernels. */
  stepMs: number;
}

export interface SmokeTrainResult {
  backend: BackendName;
  steps: number;
  /** Loss before each update, one entry per step. */
  losses: number[];
  totalMs: number;
}

export type ProgressCallback<P> = (progress: P) => void;

// ---------------------------------------------------------------------------------------------
// Model

/** A model the app serves from public/models (listed in /models/index.json when present). */
export interface BuiltinModelEntry {
  name: string;
  /** Directory URL ending in '/', e.g. '/models/tiny-moby/'. */
  url: string;
  description?: string;
  /**
   * Files of the directory (a server cannot list one). Default: config.json, model.safetensors, tokenizer.json,
   * tokenizer_config.json.
   */
  files?: string[];
  /** Held-out pretraining text for the forgetting meter, a path under /datasets. */
  heldout?: string;
}

export type ModelSource =
  | { kind: 'builtin'; url: string; name?: string; files?: string[]; heldout?: string }
  /** Files from a directory picker or a drop; webkitRelativePath (or name) gives each one's path. */
  | { kind: 'files'; files: File[] };

export interface ModelLoadProgress {
  phase: 'reading' | 'weights' | 'tokenizer' | 'done';
  loadedBytes: number;
  totalBytes: number;
  /** The tensor or file just handled. */
  item: string;
}

export interface ModelSummary {
  name: string;
  source: 'builtin' | 'files';
  config: ModelConfig;
  paramCount: number;
  /** float32 bytes of the weights. */
  fp32Bytes: number;
  /**
   * Bytes a training step may use on this device (twice the weights' share of it, training.worker.ts
   * deviceLimits): what the Model panel's estimate (src/core/train/memoryEstimate.ts) is checked against.
   */
  trainingLimitBytes: number;
  /** fingerprint.ts: identifies the base weights; adapters record it. */
  fingerprint: string;
  hasTokenizer: boolean;
  hasChatTemplate: boolean;
  warnings: string[];
  /** The largest single GPU buffer the load allowed (embedding shards were cut to fit it). */
  maxBufferBytes: number;
  embeddingShards: number;
  /** Default held-out text for the forgetting meter (the embedded model's pretraining held-out), if any. */
  heldout: string | null;
  loadMs: number;
}

// ---------------------------------------------------------------------------------------------
// Data

/** A dataset listed in /datasets/index.json. */
export interface BuiltinDatasetEntry {
  name: string;
  dataset: string;
  split: string;
  /** Path under /datasets/, e.g. 'toy-tasks/train.jsonl'. */
  file: string;
  format: 'txt' | 'jsonl';
  bytes: number;
  rows?: number;
  description: string;
  /** A held-out split (path under /datasets/) used as validation instead of a share of the rows. */
  validation?: string;
}

export type DataSource =
  /** `path` relative to /datasets/, e.g. 'toy-tasks/train.jsonl'. */
  | { kind: 'builtin'; path: string }
  /** A user file's name (its extension gives the format: .txt or .jsonl) and its text. */
  | { kind: 'file'; name: string; text: string };

export interface DataOptions {
  /** Fraction of examples (or of a .txt file's tokens, at the end) held out for the eval loss; 0 ≤ f < 1. */
  validationFraction: number;
  seed: number;
  /** Optional separate validation file; replaces the split when given. */
  validation?: DataSource;
}

export interface PreviewToken {
  id: number;
  /** The token decoded on its own (may be a partial character for byte-level tokenizers). */
  text: string;
  /** True when this token is a target that counts in the loss. */
  target: boolean;
}

export interface PreviewRow {
  /** 1-based line of the .jsonl row (1 for a .txt file). */
  line: number;
  tokens: PreviewToken[];
  /** Tokens in the example (the preview shows at most the first 96). */
  totalTokens: number;
}

export interface DataSummary {
  name: string;
  format: 'txt' | 'jsonl';
  counts: {
    lines: number;
    blankLines: number;
    examples: number;
    brokenLines: number;
    tokens: number;
    targetTokens: number;
    trainExamples: number;
    validationExamples: number;
  };
  /** The first broken lines, each message starting "line N: ". */
  errors: { line: number; message: string }[];
  preview: PreviewRow[];
  /** The first rows of a separate validation file (a built-in test split), when there is one. */
  validationPreview?: PreviewRow[];
  /** .txt files are packed into windows; .jsonl rows are one example each. */
  packed: boolean;
}

// ---------------------------------------------------------------------------------------------
// Selection

export type SelectionBudget =
  | { kind: 'perLayer'; heads: number; channels: number }
  | { kind: 'ratio'; headRatio: number; channelRatio: number }
  | { kind: 'loraRank'; rank: number };

export interface SelectConfig {
  strategy: Strategy;
  pick: 'large' | 'small';
  budget: SelectionBudget;
  /**
   * Which weights a selected unit trains: o_proj columns / down_proj columns (defaults) and optional v_proj / up_proj
   * rows.
   */
  modules: { oProj: boolean; downProj: boolean; vProj: boolean; upProj: boolean };
  seed: number;
  /** One top-k over all layers (the official code) instead of the same count per layer (the paper). */
  global?: boolean;
  /** Calibration batches for activation / product / gradient scores (default 4, from the training data). */
  calibrationBatches?: number;
}

export interface SelectionSummary {
  /** The selection file's object (ARCHITECTURE.md "File formats"), original coordinates. */
  selection: Selection;
  /** The same, as the text of a selection.json download. */
  selectionFile: string;
  /** scores.heads[layer][head], scores.channels[layer][channel]; null for 'random'. */
  scores: { heads: number[][]; channels: number[][] } | null;
  /** Heads and channels chosen, per layer or in total (global). */
  counts: { heads: number; channels: number; allocation: 'uniform' | 'global' };
  trainableParams: {
    s2ft: number;
    /** LoRA on q, k, v, up, down at `loraRank`. */
    lora: number;
    /** The budget's rank for a loraRank budget, else the smallest rank with at least S²FT's count. */
    loraRank: number;
    full: number;
  };
}

// ---------------------------------------------------------------------------------------------
// Weight views

export type ViewModule = 'o_proj' | 'down_proj' | 'q_proj' | 'k_proj' | 'v_proj' | 'gate_proj' | 'up_proj';

export interface WeightViewRequest {
  layer: number;
  module: ViewModule;
  /** Reorder the units so the selected ones come first (paper §3.1 co-permutation). */
  permuted: boolean;
  /** Show |W| (default) or signed W. */
  absolute?: boolean;
  /** Largest number of cells along each axis; the matrix is average-pooled down to fit (default 160). */
  maxCells?: number;
}

export interface WeightView {
  layer: number;
  module: ViewModule;
  /** Full [out, in] shape of the weight. */
  shape: [number, number];
  /** Cells of the (downsampled) view: values[r * cols + c], row-major. */
  rows: number;
  cols: number;
  values: Float32Array;
  /** Original rows / columns pooled into one cell along each axis. */
  rowsPerCell: number;
  colsPerCell: number;
  /** Which axis carries the units (heads or channels): rows for q/k/v/gate/up, columns for o/down. */
  unitAxis: 'rows' | 'columns';
  /** Unit kind and size in weight rows/columns: a head is headDim wide, a channel 1. */
  unit: 'head' | 'kvHead' | 'channel';
  unitSize: number;
  /** order[p] = original unit shown at position p (identity when not permuted). */
  order: number[];
  /** The selected units' dense block(s) to outline, in unit positions [start, end). */
  blocks: { start: number; end: number }[];
  /** E.g. the grouped-query attention caveat for a permuted k/v view. */
  note: string | null;
}

// ---------------------------------------------------------------------------------------------
// Training

/**
 * A run the page asks for: the core's training config (src/core/train/config.ts, the same record
 * the CLI and the recipe use) and what only a studio run has.
 */
export interface TrainRequest extends TrainConfig {
  /** Prompts the run generates from every sampleEvery steps. */
  samplePrompts: string[];
  /** Held-out text for the forgetting meter: a path under /datasets, 'none', or default (the model's). */
  heldout?: string | 'none';
  /** A name for the run in the Compare panel. */
  name?: string;
}

export type TrainPhase = 'loading' | 'compiling' | 'training' | 'paused' | 'done' | 'stopped' | 'error';

export interface TrainErrorInfo {
  /** UserError code ('training-diverged', 'too-large', ...) or 'internal' for a bug. */
  code: string;
  message: string;
}

/** One training step as the charts need it. */
export interface StepPoint {
  step: number;
  steps: number;
  loss: number;
  lr: number;
  gradNorm: number;
  tokensPerSec: number;
  stepMs: number;
  elapsedMs: number;
  /** Estimated time to the last step, from the median step time so far. */
  etaMs: number;
  /** tf.memory().numBytes: bytes held by live tensors. */
  bytesInUse: number;
  /** Bytes the backend has allocated on the GPU (WebGPU/WebGL pools), null on cpu. */
  bytesAllocated: number | null;
  numTensors: number;
  /** Highest tensor bytes seen inside a measured step (the first one); null until measured. */
  peakBytes: number | null;
}

export interface EvalPoint {
  step: number;
  /** Validation loss; null without a validation split. */
  evalLoss: number | null;
  /** Held-out pretraining loss (forgetting meter); null when there is no held-out text. */
  heldoutLoss: number | null;
  /** heldoutLoss − its value at step 0 (positive = forgetting). */
  forgetting: number | null;
  /**
   * Validation rows whose greedy answer is exactly right (src/core/train/exactMatch.ts), over the
   * first MAX_EXACT_MATCH_ROWS of them; null for packed text or without a validation split.
   * Absent in runs saved before it existed.
   */
  exactMatch?: { correct: number; total: number } | null;
}

export interface SampleGeneration {
  prompt: string;
  text: string;
}

export type TrainEvent =
  | { kind: 'phase'; runId: string; phase: TrainPhase; message: string; error?: TrainErrorInfo }
  | { kind: 'step'; runId: string; point: StepPoint }
  | { kind: 'eval'; runId: string; point: EvalPoint }
  | { kind: 'samples'; runId: string; step: number; samples: SampleGeneration[] }
  | { kind: 'checkpoint'; runId: string; step: number; bytes: number };

export interface RunSummary {
  runId: string;
  name: string;
  status: 'done' | 'stopped' | 'error';
  error?: TrainErrorInfo;
  method: MethodName;
  /** The settings as given (plus the selection for S²FT), for the Compare panel's diff. */
  settings: TrainRequest;
  selection: Selection | null;
  modelName: string;
  dataName: string;
  stepsDone: number;
  finalLoss: number | null;
  finalEvalLoss: number | null;
  /** Held-out loss change over the run; null without held-out text. */
  forgettingDelta: number | null;
  medianStepMs: number | null;
  /**
   * Highest tensor bytes inside a training step (distinct buffers, measured on the first step); null if not measured.
   */
  peakBytes: number | null;
  trainableParams: number;
  /** The adapter this run produced (S²FT and LoRA), in listAdapters(). */
  adapterId: string | null;
}

/** A resumable run in IndexedDB. */
export interface CheckpointSummary {
  runId: string;
  name: string;
  method: MethodName;
  step: number;
  steps: number;
  savedAt: number;
  modelName: string;
  modelFingerprint: string;
  /** The model comes back by itself (built-in) or the user must pick the same files again. */
  modelSource: { kind: 'builtin'; url: string } | { kind: 'files'; name: string };
  dataName: string;
  /** Every step and eval so far, so the charts can be redrawn after a reload. */
  history: { steps: StepPoint[]; evals: EvalPoint[] };
}

// ---------------------------------------------------------------------------------------------
// Generation and adapters

export interface GenerateRequest {
  maxNewTokens: number;
  /** 0 = greedy. */
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
  /**
   * 'base' (no adapter), 'current' (the last run's trained state) or an adapter id. Default: the active one (switchTo).
   */
  adapters?: 'base' | 'current' | string;
  /** Wrap a text prompt in the tokenizer's chat template as a user message. */
  chat?: boolean;
}

export interface GenerateOutput {
  /** New token ids only. */
  ids: number[];
  text: string;
  stoppedBy: 'eos' | 'length';
  ms: number;
}

export interface AdapterSummary {
  id: string;
  name: string;
  kind: 's2ft' | 'lora' | 'fused';
  origin: 'trained' | 'imported' | 'fused';
  baseModel: { name: string; fingerprint: string };
  /** True when it was made for the loaded model (fingerprint and shapes). */
  fits: boolean;
  message?: string;
  blocks: number;
  params: number;
}

export interface ExportedFile {
  fileName: string;
  bytes: ArrayBuffer;
}

export interface MemoryInfo {
  backend: BackendName;
  numBytes: number;
  numTensors: number;
  bytesAllocated: number | null;
}

export interface TrainingWorkerApi {
  /** Picks WebGPU, then WebGL, then CPU; safe to call again (returns the settled choice). */
  initBackend(): Promise<BackendInfo>;
  /**
   * Trains a tiny fixed network for `steps` Adam steps on the active backend: a check that the
   * worker can really train here, with progress after every step.
   */
  smokeTrain(steps: number, onProgress?: ProgressCallback<SmokeTrainProgress>): Promise<SmokeTrainResult>;

  /** /models/index.json's entries, or [] when the app ships no index. */
  listBuiltinModels(): Promise<BuiltinModelEntry[]>;
  /** Replaces the loaded model (and drops the data, selection, runs' trained state and adapter fits). */
  loadModel(source: ModelSource, onProgress?: ProgressCallback<ModelLoadProgress>): Promise<ModelSummary>;

  /** /datasets/index.json's entries. */
  listBuiltinDatasets(): Promise<BuiltinDatasetEntry[]>;
  /** Needs a loaded model (its tokenizer). */
  loadData(source: DataSource, options: DataOptions): Promise<DataSummary>;

  /** Needs a loaded model; data too for activation / product / gradient. */
  select(config: SelectConfig): Promise<SelectionSummary>;
  /** Uses a selection file's text instead of select(); validated against the model. */
  useSelectionFile(text: string, fileName: string): Promise<SelectionSummary>;
  /** A weight of the loaded base model as a heatmap, optionally co-permuted by the current selection. */
  weightView(request: WeightViewRequest): Promise<WeightView>;

  /** Runs to the end, to stop(), or to an error; events go to onEvent. One run at a time. */
  train(config: TrainRequest, onEvent: ProgressCallback<TrainEvent>): Promise<RunSummary>;
  /** Holds the run between steps (resolves once it has paused). */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Ends the run after the current step, keeping its trained state (as 'current' and an adapter). */
  stop(): Promise<void>;
  listCheckpoints(): Promise<CheckpointSummary[]>;
  deleteCheckpoint(runId: string): Promise<void>;
  /**
   * Continues a checkpointed run to its last step with the same losses an uninterrupted run has.
   * A built-in model and data are reloaded by themselves; a model from files must be loaded
   * again first (the fingerprint is checked).
   */
  resumeTraining(runId: string, onEvent: ProgressCallback<TrainEvent>): Promise<RunSummary>;
  /** Called once if the GPU device is lost; the worker is unusable afterwards (restart it, then resumeTraining). */
  watchDevice(onLost: ProgressCallback<{ message: string }>): Promise<void>;

  generate(prompt: string | number[], options: GenerateRequest): Promise<GenerateOutput>;

  /** An adapter (the last run's by default): native S²FT safetensors, or a PEFT-LoRA zip (exact for S²FT). */
  exportAdapter(kind: 's2ft' | 'peft-zip', adapterId?: string): Promise<ExportedFile>;
  /**
   * "Scale out": a zip of the PyTorch recipe folder (the same as `cli export-recipe`) that trains
   * this S²FT run (current model, training split, selection and `config`) with torchrun.
   */
  exportRecipe(config: TrainConfig): Promise<ExportedFile>;
  /**
   * One adapter file (a native S²FT .safetensors or a PEFT LoRA zip); stored with the others. One
   * made for another base is kept and listed as not fitting, with a message naming both models.
   */
  importAdapter(name: string, bytes: ArrayBuffer): Promise<AdapterSummary>;
  /** One file, or a PEFT LoRA folder's adapter_config.json and adapter_model.safetensors together. */
  importAdapterFiles(files: ExportedFile[]): Promise<AdapterSummary>;
  /** Reads the stored adapters in (once); a note per record that could not be read. */
  restoreAdapters(): Promise<string[]>;
  listAdapters(): Promise<AdapterSummary[]>;
  /** Forgets an adapter, stored copy included. */
  deleteAdapter(id: string): Promise<void>;
  /** A new adapter Σ w_i · adapter_i (S²FT and LoRA adapters; LoRA ones enter as B·A · scaling). */
  fuse(ids: string[], weights: number[]): Promise<AdapterSummary>;
  /**
   * The base model with Σ w_i · adapter_i added, as a zip of the HuggingFace folder `cli fuse`
   * writes (config.json, safetensors in the base's dtype, its tokenizer and generation files).
   */
  exportFusedModel(ids: string[], weights: number[]): Promise<ExportedFile>;
  /** The adapter generate() uses by default; it is fused into a copy of the touched weights. */
  switchTo(id: string | 'base'): Promise<void>;
  memory(): Promise<MemoryInfo>;
}
