/**
 * Starts the training worker and wraps it in its typed comlink API. Calls still pending when the
 * worker goes away (terminated, crashed, its GPU lost) reject with the reason instead of hanging:
 * comlink alone would wait for an answer that never comes.
 */
import * as Comlink from 'comlink';
import type { TrainingWorkerApi } from '../../workers/api';

export interface WorkerClient {
  api: Comlink.Remote<TrainingWorkerApi>;
  /** Stops the worker; every pending call rejects with `reason`. */
  terminate(reason?: string): void;
}

/** `remote`, except that each call rejects as soon as `gone` does. */
export function untilGone<T extends object>(remote: T, gone: Promise<never>): T {
  return new Proxy(remote, {
    get(target, prop, receiver) {
      // `then` must stay undefined (the remote is not a promise); symbols are comlink's own.
      if (prop === 'then' || typeof prop === 'symbol') return Reflect.get(target, prop, receiver);
      const method = Reflect.get(target, prop, receiver) as (...args: unknown[]) => Promise<unknown>;
      return (...args: unknown[]) => Promise.race([method(...args), gone]);
    },
  });
}

export function createWorkerClient(onCrash: (message: string) => void): WorkerClient {
  const worker = new Worker(new URL('../../workers/training.worker.ts', import.meta.url), {
    type: 'module',
    name: 'training',
  });
  let end!: (reason: Error) => void;
  const gone = new Promise<never>((_, reject) => {
    end = reject;
  });
  gone.catch(() => undefined); // rejections are the callers' to see
  // A worker that fails to load or throws outside a request never answers; say so instead of hanging.
  worker.addEventListener('error', (event) => {
    onCrash(event.message || 'the training worker failed to start');
  });
  const remote = Comlink.wrap<TrainingWorkerApi>(worker);
  return {
    api: untilGone(remote, gone),
    terminate(reason = 'the training worker was shut down') {
      end(new Error(reason));
      remote[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}
