/** Runs the worker's smoke training and streams its progress into the store. */
import * as Comlink from 'comlink';
import type { SmokeTrainProgress } from '../../workers/api';
import { errorMessage } from './errorMessage';
import { useStudio } from './store';

export async function runSmokeTest(steps: number): Promise<void> {
  const { worker, setSmokeTest } = useStudio.getState();
  if (!worker) return;
  const progress: SmokeTrainProgress[] = [];
  setSmokeTest({ status: 'running', steps, progress: [] });
  // The worker delivers every progress event before it answers (training.worker.ts `delivering`).
  const onProgress = (p: SmokeTrainProgress) => {
    progress.push(p);
    setSmokeTest({ status: 'running', steps, progress: [...progress] });
  };
  try {
    const result = await worker.smokeTrain(steps, Comlink.proxy(onProgress));
    setSmokeTest({ status: 'done', result });
  } catch (e) {
    setSmokeTest({ status: 'failed', message: errorMessage(e) });
  }
}
