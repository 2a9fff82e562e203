/**
 * The training worker: owns tfjs, the backend and all GPU memory, and exposes TrainingWorkerApi
 * to the UI through comlink. The state and logic live in StudioSession (session.ts, testable in
 * Node); this file adds what only a browser worker has: the backend choice, the device's buffer
 * limits, IndexedDB checkpoints, transfers and the lost-device signal (ARCHITECTURE.md "Layers").
 */
import * as Comlink from 'comlink';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_MAX_BUFFER_BYTES } from '../src/core/io/checkpoint';
import type {
  BackendInfo,
  ExportedFile,
  ProgressCallback,
  SmokeTrainProgress,
  TrainingWorkerApi,
  WeightView,
} from './api';
import { activeBackend, chooseBackend } from './backend';
import { idbAdapterStore } from './idbAdapterStore';
import { idbCheckpointStore } from './idbCheckpointStore';
import type { DeviceLimits } from './modelLoader';
import { StudioSession, type SessionApi } from './session';
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
    adapters: typeof indexedDB === 'undefined' ? null : idbAdapterStore(),
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

/** Everything but the backend, the smoke test and the device watch is the session's, forwarded by `forward`. */
type SessionMethod = keyof SessionApi;

/** Every session method the page may call (the type checks that the session has each one). */
const SESSION_METHODS = [
  'listBuiltinModels',
  'loadModel',
  'listBuiltinDatasets',
  'loadData',
  'select',
  'useSelectionFile',
  'weightView',
  'train',
  'pause',
  'resume',
  'stop',
  'listCheckpoints',
  'deleteCheckpoint',
  'resumeTraining',
  'generate',
  'exportAdapter',
  'exportRecipe',
  'importAdapter',
  'importAdapterFiles',
  'restoreAdapters',
  'listAdapters',
  'deleteAdapter',
  'fuse',
  'exportFusedModel',
  'switchTo',
  'memory',
] as const satisfies readonly SessionMethod[];
/** Fails to compile when a session method is missing from the list above. */
const everySessionMethod: [Exclude<SessionMethod, (typeof SESSION_METHODS)[number]>] extends [never] ? true : never =
  true;
void everySessionMethod;

/** Results whose buffers move to the page instead of being copied. */
const TRANSFERS: Partial<Record<SessionMethod, (result: never) => Transferable[]>> = {
  weightView: (view: WeightView) => [view.values.buffer],
  exportAdapter: (file: ExportedFile) => [file.bytes],
  exportRecipe: (file: ExportedFile) => [file.bytes],
  exportFusedModel: (file: ExportedFile) => [file.bytes],
};

/**
 * One session method behind comlink: callback arguments (comlink proxies) are delivered in order
 * and released when the call ends, after their last event (withCallbacks), and transferable
 * results are transferred.
 */
function forward<K extends SessionMethod>(name: K): TrainingWorkerApi[K] {
  const call = async (...args: unknown[]): Promise<unknown> => {
    const session = await getSession();
    const method = session[name] as (...a: unknown[]) => Promise<unknown>;
    const result = await withCallbacks(args, (passed) => method.apply(session, passed));
    const transfer = TRANSFERS[name] as ((r: unknown) => Transferable[]) | undefined;
    return transfer ? Comlink.transfer(result, transfer(result)) : result;
  };
  return call as unknown as TrainingWorkerApi[K];
}

const api: TrainingWorkerApi = {
  ...(Object.fromEntries(SESSION_METHODS.map((name) => [name, forward(name)])) as Pick<
    TrainingWorkerApi,
    SessionMethod
  >),

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
    return withCallbacks([onProgress], async ([progress]) => {
      const send = progress as ProgressCallback<SmokeTrainProgress> | undefined;
      const losses = await smokeTrain(steps, (s) => send?.({ ...s, steps }));
      return { backend: activeBackend(), steps, losses, totalMs: performance.now() - started };
    });
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
};

/**
 * Runs `f` with each function argument (a comlink proxy of a page callback) replaced by an
 * in-order sender; when `f` ends, waits for the page to have run the last event, then releases
 * the proxy's port. So a request's result never overtakes its last event (they travel on
 * different ports) and the page needs no guard against late progress.
 */
async function withCallbacks<T>(args: unknown[], f: (passed: unknown[]) => Promise<T>): Promise<T> {
  const senders = args.map((a) => (typeof a === 'function' ? delivering(a as ProgressCallback<unknown>) : null));
  try {
    return await f(args.map((a, i) => senders[i]?.send ?? a));
  } finally {
    for (const [i, sender] of senders.entries()) {
      if (!sender) continue;
      await sender.drained();
      releaseCallback(args[i]);
    }
  }
}

/** A page callback's calls each return a promise that settles once the page has run it; the page runs them in order. */
function delivering<P>(callback: ProgressCallback<P>): {
  send: (p: P) => void;
  drained: () => Promise<unknown>;
} {
  let last: Promise<unknown> = Promise.resolve();
  return {
    send: (p) => {
      // a page gone away is not the request's error
      last = Promise.resolve(callback(p)).catch(() => undefined);
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
