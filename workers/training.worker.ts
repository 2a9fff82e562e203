/**
 * The training worker: owns tfjs, the backend and all GPU memory, and exposes TrainingWorkerApi
 * to the UI through comlink. The state and logic live in StudioSession (session.ts, testable in
 * Node); this file adds what only a browser worker has: the backend choice, the device's buffer
 * limits, IndexedDB checkpoints, transfers and the lost-device signal.
 */
import * as Comlink from 'comlink';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_MAX_BUFFER_BYTES } from '../src/core/io/checkpoint';
import type { BackendInfo, ProgressCallback, SmokeTrainProgress, TrainingWorkerApi } from './api';
import { activeBackend, chooseBackend } from './backend';
import { idbCheckpointStore } from './idbCheckpointStore';
import type { DeviceLimits } from './modelLoader';
import { StudioSession } from './session';
import { smokeTrain } from './smokeTrain';

export type { TrainingWorkerApi } from './api';

const GiB = 2 ** 30;

let backendChoice: Promise<BackendInfo> | null = null;
let session: StudioSession | null = null;

async function getSession(): Promise<StudioSession> {
  const info = await api.initBackend();
  session ??= new StudioSession({
    fetch: (input, init) => fetch(input, init),
    modelsBase: new URL(`${import.meta.env.BASE_URL}models/`, self.location.origin).href,
    datasetsBase: new URL(`${import.meta.env.BASE_URL}datasets/`, self.location.origin).href,
    limits: deviceLimits(info),
    checkpoints: typeof indexedDB === 'undefined' ? null : idbCheckpointStore(),
    backend: activeBackend,
  });
  return session;
}

/**
 * One GPU buffer must hold the largest tensor (the embedding is split to fit), so the limit is
 * the smaller of the adapter's maxBufferSize and maxStorageBufferBindingSize. The weights may use
 * half of the memory the browser reports (navigator.deviceMemory, capped at 8 GiB by spec), at
 * most 4 GiB: fine-tuning needs as much again for activations and optimizer state.
 */
function deviceLimits(info: BackendInfo): DeviceLimits {
  const limits = info.backend === 'webgpu' ? info.adapter?.limits : undefined;
  const maxBufferBytes = limits
    ? Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize)
    : DEFAULT_MAX_BUFFER_BYTES;
  const reported = (navigator as Navigator & { deviceMemory?: number }).deviceMemory;
  const memoryLimitBytes = Math.min(4 * GiB, reported ? (reported * GiB) / 2 : 2 * GiB);
  return { maxBufferBytes, memoryLimitBytes };
}

const api: TrainingWorkerApi = {
  initBackend() {
    backendChoice ??= chooseBackend();
    return backendChoice;
  },

  async smokeTrain(steps: number, onProgress?: ProgressCallback<SmokeTrainProgress>) {
    if (!Number.isInteger(steps) || steps < 1 || steps > 1000) {
      throw new RangeError(`smoke test steps must be an integer from 1 to 1000, got ${steps}`);
    }
    await api.initBackend();
    const started = performance.now();
    const progress = delivering(onProgress);
    try {
      const losses = await smokeTrain(steps, (s) => progress.send({ ...s, steps }));
      return { backend: activeBackend(), steps, losses, totalMs: performance.now() - started };
    } finally {
      await progress.drained();
      releaseCallback(onProgress);
    }
  },

  listBuiltinModels: async () => (await getSession()).listBuiltinModels(),
  async loadModel(source, onProgress) {
    const progress = delivering(onProgress);
    try {
      return await (await getSession()).loadModel(source, progress.send);
    } finally {
      await progress.drained();
      releaseCallback(onProgress);
    }
  },
  listBuiltinDatasets: async () => (await getSession()).listBuiltinDatasets(),
  loadData: async (source, options) => (await getSession()).loadData(source, options),
  select: async (config) => (await getSession()).select(config),
  useSelectionFile: async (text, fileName) => (await getSession()).useSelectionFile(text, fileName),
  async weightView(request) {
    const view = await (await getSession()).weightView(request);
    return Comlink.transfer(view, [view.values.buffer]);
  },
  async train(config, onEvent) {
    const events = delivering(onEvent);
    try {
      return await (await getSession()).train(config, events.send);
    } finally {
      await events.drained();
      releaseCallback(onEvent);
    }
  },
  pause: async () => (await getSession()).pause(),
  resume: async () => (await getSession()).resume(),
  stop: async () => (await getSession()).stop(),
  listCheckpoints: async () => (await getSession()).listCheckpoints(),
  deleteCheckpoint: async (runId) => (await getSession()).deleteCheckpoint(runId),
  async resumeTraining(runId, onEvent) {
    const events = delivering(onEvent);
    try {
      return await (await getSession()).resumeTraining(runId, events.send);
    } finally {
      await events.drained();
      releaseCallback(onEvent);
    }
  },
  async watchDevice(onLost) {
    await api.initBackend();
    // tfjs's WebGPU backend keeps its GPUDevice in `device`; other backends have none to lose.
    const device = (tf.backend() as { device?: GPUDevice }).device;
    void device?.lost.then((info) => {
      onLost({
        message: `the GPU device was lost (${info.reason === 'destroyed' ? 'destroyed' : 'unknown reason'}: ${(info.message || 'no details').replace(/\.$/, '')})`,
      });
    });
  },
  generate: async (prompt, options) => (await getSession()).generate(prompt, options),
  async exportAdapter(kind, adapterId) {
    const file = await (await getSession()).exportAdapter(kind, adapterId);
    return Comlink.transfer(file, [file.bytes]);
  },
  async exportRecipe(config) {
    const file = await (await getSession()).exportRecipe(config);
    return Comlink.transfer(file, [file.bytes]);
  },
  importAdapter: async (name, bytes) => (await getSession()).importAdapter(name, bytes),
  listAdapters: async () => (await getSession()).listAdapters(),
  fuse: async (ids, weights) => (await getSession()).fuse(ids, weights),
  switchTo: async (id) => (await getSession()).switchTo(id),
  memory: async () => (await getSession()).memory(),
};

/**
 * A progress callback from the page (a comlink proxy): each call returns a promise that settles
 * once the page has run it, and the page runs them in order. A request awaits `drained()` before
 * it returns, so its result never overtakes its last event (they travel on different ports) and
 * the page needs no guard against late progress.
 */
function delivering<P>(callback: ProgressCallback<P> | undefined): {
  send: (p: P) => void;
  drained: () => Promise<unknown>;
} {
  let last: Promise<unknown> = Promise.resolve();
  return {
    send: (p) => {
      // a page gone away is not the request's error
      if (callback) last = Promise.resolve(callback(p)).catch(() => undefined);
    },
    drained: () => last,
  };
}

/** A callback arrives as a comlink proxy holding a MessagePort; free it once the call is over. */
function releaseCallback(callback: unknown): void {
  const release = (callback as { [Comlink.releaseProxy]?: () => void } | undefined)?.[Comlink.releaseProxy];
  release?.();
}

Comlink.expose(api);

// `loseGpuDevice()` in this worker's console destroys the WebGPU device the way a driver reset or
// a GPU process crash does: how e2e/recovery.spec.ts (and a person in DevTools) checks recovery.
Object.assign(self, { loseGpuDevice: () => (tf.backend() as { device?: GPUDevice }).device?.destroy() });
