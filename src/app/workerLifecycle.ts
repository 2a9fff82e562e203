/**
 * The training worker's life: start it, pick its backend, watch its GPU device, and when it dies
 * (the device was lost, or the worker crashed) start a fresh one and reopen the studio where it
 * was. The person keeps everything: the run's curves stay on screen, runs, adapters and
 * checkpoints are in IndexedDB, and a run cut off by a lost device continues from its last
 * checkpoint by itself (a crash offers it instead: the same input might crash again).
 */
import * as Comlink from 'comlink';
import { openSession } from './actions/session';
import { resumeCheckpoint } from './actions/train';
import { errorMessage } from './errorMessage';
import { useStudio, type LiveRun } from './store';
import { createWorkerClient, type WorkerClient } from './workerClient';

export interface WorkerFailure {
  kind: 'device-lost' | 'crash';
  message: string;
}

/** More automatic restarts than this within RESTART_WINDOW_MS means the fault is not passing. */
const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 5 * 60_000;

let client: WorkerClient | null = null;
const restartTimes: number[] = [];

/** Starts a worker and its backend; resolves false (and says why in the badge) if it failed. */
export async function startWorker(): Promise<boolean> {
  const own: WorkerClient = createWorkerClient((message) => void recover(own, { kind: 'crash', message }));
  client = own;
  const { setWorker, setBackend } = useStudio.getState();
  setWorker(own.api);
  try {
    const info = await own.api.initBackend();
    if (client !== own) return false;
    setBackend({ status: 'ready', info });
    const onLost = ({ message }: { message: string }) => void recover(own, { kind: 'device-lost', message });
    own.api.watchDevice(Comlink.proxy(onLost)).catch(() => undefined);
    return true;
  } catch (e) {
    if (client === own) setBackend({ status: 'failed', message: errorMessage(e) });
    return false;
  }
}

export function stopWorker(reason?: string): void {
  client?.terminate(reason);
  client = null;
  const { setWorker, setBackend } = useStudio.getState();
  setWorker(null);
  setBackend({ status: 'starting' });
}

/**
 * The run the failure cut off: one still training, or one that just failed with an internal error
 * (a lost device usually fails the step in flight before the loss is reported). A run stopped by
 * the person, finished, or refused for a reason of its own (a NaN loss) is not resumed.
 */
function cutOff(live: LiveRun | null): LiveRun | null {
  if (!live || live.runId === '' || live.phase === 'done' || live.phase === 'stopped') return null;
  return live.phase !== 'error' || live.error?.code === 'internal' ? live : null;
}

async function recover(failed: WorkerClient, failure: WorkerFailure): Promise<void> {
  if (client !== failed) return; // news from a worker already replaced
  const { backend, live } = useStudio.getState();
  if (backend.status !== 'ready') {
    // it never came up: nothing to restart
    failed.terminate(failure.message);
    useStudio.getState().setBackend({ status: 'failed', message: failure.message });
    return;
  }
  const what = failure.kind === 'device-lost' ? failure.message : `the training worker crashed: ${failure.message}`;
  const interrupted = cutOff(live);
  stopWorker(what); // pending requests now reject with `what`
  const now = Date.now();
  while (restartTimes.length > 0 && now - restartTimes[0] > RESTART_WINDOW_MS) restartTimes.shift();
  if (restartTimes.length >= MAX_RESTARTS) {
    const message =
      `${what}. The worker was restarted ${MAX_RESTARTS} times in the last few minutes, so the studio stopped trying: ` +
      'reload the page to start again (runs, adapters and checkpoints are kept).';
    useStudio.setState({ workerNotice: message });
    useStudio.getState().setBackend({ status: 'failed', message });
    return;
  }
  restartTimes.push(now);
  useStudio.setState({ workerNotice: `${what}. Restarting the training worker…` });
  if (!(await startWorker())) return;
  await openSession();
  const checkpoint = interrupted && useStudio.getState().checkpoints.find((c) => c.runId === interrupted.runId);
  if (!interrupted) {
    useStudio.setState({ workerNotice: `${what}. The training worker was restarted; nothing was lost.` });
  } else if (!checkpoint) {
    useStudio.setState({
      workerNotice: `${what}. The training worker was restarted. Run "${interrupted.name}" had not saved a checkpoint yet; start it again.`,
    });
  } else if (failure.kind === 'crash') {
    useStudio.setState({
      workerNotice: `${what}. The training worker was restarted; run "${interrupted.name}" can continue from step ${checkpoint.step} (below).`,
    });
  } else {
    useStudio.setState({
      workerNotice: `${what}. The training worker was restarted and run "${interrupted.name}" continues from its checkpoint at step ${checkpoint.step}.`,
    });
    await resumeCheckpoint(checkpoint);
  }
}
