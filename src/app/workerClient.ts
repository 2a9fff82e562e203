/** Starts the training worker and wraps it in its typed comlink API. */
import * as Comlink from 'comlink';
import type { TrainingWorkerApi } from '../../workers/api';

export interface WorkerClient {
  api: Comlink.Remote<TrainingWorkerApi>;
  terminate(): void;
}

export function createWorkerClient(onCrash: (message: string) => void): WorkerClient {
  const worker = new Worker(new URL('../../workers/training.worker.ts', import.meta.url), {
    type: 'module',
    name: 'training',
  });
  // A worker that fails to load or throws at top level never answers; say so instead of hanging.
  worker.addEventListener('error', (event) => {
    onCrash(event.message || 'the training worker failed to start');
  });
  const api = Comlink.wrap<TrainingWorkerApi>(worker);
  return {
    api,
    terminate() {
      api[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}
