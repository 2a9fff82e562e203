/**
 * The training worker: owns tfjs, the backend and all GPU memory, and exposes TrainingWorkerApi
 * to the UI through comlink.
 */
import * as Comlink from 'comlink';
import type { BackendInfo, ProgressCallback, SmokeTrainProgress, TrainingWorkerApi } from './api';
import { activeBackend, chooseBackend } from './backend';
import { smokeTrain } from './smokeTrain';

export type { TrainingWorkerApi } from './api';

let backendChoice: Promise<BackendInfo> | null = null;

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
    try {
      const losses = await smokeTrain(steps, (s) => onProgress?.({ ...s, steps }));
      return { backend: activeBackend(), steps, losses, totalMs: performance.now() - started };
    } finally {
      releaseCallback(onProgress);
    }
  },
};

/** A callback arrives as a comlink proxy holding a MessagePort; free it once the call is over. */
function releaseCallback(callback: ProgressCallback<SmokeTrainProgress> | undefined): void {
  const release = (callback as { [Comlink.releaseProxy]?: () => void } | undefined)?.[Comlink.releaseProxy];
  release?.();
}

Comlink.expose(api);
