/** Runs the worker's smoke training and streams its progress into the store. */
import * as Comlink from 'comlink';
import type { SmokeTrainProgress } from '../../workers/api';
import { errorMessage } from './errorMessage';
import { useStudio } from './store';

export async function runSmokeTest(steps: number): Promise<void> {
  const { worker, setSmokeTest } = useStudio.getState();
  if (!worker) return;
  const progress: SmokeTrainProgress[] = [];
  let settled = false;
  setSmokeTest({ status: 'running', steps, progress: [] });
  // Progress travels on the callback proxy's own channel, so the last step's event can arrive
  // after the call's result: once settled, late events must not turn the status back to running.
  const onProgress = (p: SmokeTrainProgress) => {
    if (settled) return;
    progress.push(p);
    setSmokeTest({ status: 'running', steps, progress: [...progress] });
  };
  try {
    const result = await worker.smokeTrain(steps, Comlink.proxy(onProgress));
    settled = true;
    setSmokeTest({ status: 'done', result });
  } catch (e) {
    settled = true;
    setSmokeTest({ status: 'failed', message: errorMessage(e) });
  }
}
