/**
 * The one interface between the UI and the training worker (comlink).
 * Only plain objects, numbers, strings and ArrayBuffers cross it: tensors and GPU memory stay in
 * the worker. Callbacks travel as `Comlink.proxy(fn)`. Later features (loadModel, loadData,
 * select, train, pause/resume/stop, generate, exportAdapter, ...) are added to this interface.
 */

export type BackendName = 'webgpu' | 'webgl' | 'cpu';

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

export interface TrainingWorkerApi {
  /** Picks WebGPU, then WebGL, then CPU; safe to call again (returns the settled choice). */
  initBackend(): Promise<BackendInfo>;
  /**
   * Trains a tiny fixed network for `steps` Adam steps on the active backend: a check that the
   * worker can really train here, with progress after every step.
   */
  smokeTrain(steps: number, onProgress?: ProgressCallback<SmokeTrainProgress>): Promise<SmokeTrainResult>;
}
