/**
 * Training runs: start, pause, resume, stop, and continue an interrupted run from its checkpoint.
 * Worker events are batched per animation frame into the live run; a finished run is kept (and
 * saved to IndexedDB) for the Compare panel.
 */
import * as Comlink from 'comlink';
import type { CheckpointSummary, RunSummary, TrainEvent } from '../../../workers/api';
import { errorMessage } from '../errorMessage';
import { saveRun } from '../persistence';
import { pickTrainConfig } from '../../core/train/config';
import { samplePrompts } from '../requests';
import { requireWorker, useStudio, type LiveRun, type RunRecord } from '../store';
import { frameBatch } from './frameBatch';
import { downloadBytes, refreshAdapters } from './adapters';

/** Folds a frame's worth of events into the live run. */
export function applyEvents(run: LiveRun, events: readonly TrainEvent[]): LiveRun {
  let next = run;
  const steps = [...run.steps];
  const evals = [...run.evals];
  const samples = [...run.samples];
  for (const event of events) {
    if (!next.runId) next = { ...next, runId: event.runId }; // a new run learns its id from its first event
    switch (event.kind) {
      case 'phase':
        next = { ...next, phase: event.phase, message: event.message, error: event.error };
        break;
      case 'step':
        steps.push(event.point);
        break;
      case 'eval':
        evals.push(event.point);
        break;
      case 'samples':
        samples.push({ step: event.step, samples: event.samples });
        break;
      case 'checkpoint':
        next = { ...next, message: `checkpoint saved at step ${event.step}` };
        break;
    }
  }
  return { ...next, steps, evals, samples };
}

async function follow(
  run: LiveRun,
  start: (onEvent: (e: TrainEvent) => void) => Promise<RunSummary>,
): Promise<RunSummary | null> {
  useStudio.setState({ live: run });
  // The worker delivers every event before it answers (training.worker.ts `delivering`), so
  // flushing the frame's batch once the result is here completes the curves.
  const batch = frameBatch<TrainEvent>((events) => {
    const live = useStudio.getState().live;
    if (live) useStudio.setState({ live: applyEvents(live, events) });
  });
  try {
    const summary = await start(Comlink.proxy((event: TrainEvent) => batch.push(event)));
    batch.flush();
    const live = useStudio.getState().live ?? run;
    const record: RunRecord = {
      summary,
      history: {
        runId: summary.runId,
        name: summary.name,
        steps: live.steps,
        evals: live.evals,
        samples: live.samples,
      },
      savedAt: Date.now(),
    };
    useStudio.setState((s) => ({
      live: {
        ...live,
        runId: summary.runId,
        phase: summary.status,
        error: summary.error,
        message: summary.error?.message ?? `${summary.stepsDone} steps trained`,
      },
      runs: [...s.runs.filter((r) => r.summary.runId !== summary.runId), record],
    }));
    await saveRun(record);
    await refreshAdapters();
    return summary;
  } catch (e) {
    batch.flush();
    const live = useStudio.getState().live ?? run;
    useStudio.setState({
      live: {
        ...live,
        phase: 'error',
        message: errorMessage(e),
        error: { code: 'internal', message: errorMessage(e) },
      },
    });
    return null;
  }
}

function runName(): string {
  const { settings, runs } = useStudio.getState();
  return `${settings.method} #${runs.filter((r) => r.summary.method === settings.method).length + 1}`;
}

export async function startTraining(): Promise<RunSummary | null> {
  const worker = requireWorker();
  const { settings, data } = useStudio.getState();
  const prompts = data.status === 'ready' ? samplePrompts(data.value) : [];
  const name = runName();
  const run: LiveRun = { runId: '', name, steps: [], evals: [], samples: [], phase: 'loading', message: 'starting…' };
  return follow(run, (onEvent) =>
    worker.train({ ...pickTrainConfig(settings), samplePrompts: prompts, name }, onEvent),
  );
}

export async function resumeCheckpoint(checkpoint: CheckpointSummary): Promise<RunSummary | null> {
  const worker = requireWorker();
  useStudio.setState((s) => ({
    checkpoints: s.checkpoints.filter((c) => c.runId !== checkpoint.runId),
    activePanel: 'train',
  }));
  const run: LiveRun = {
    runId: checkpoint.runId,
    name: checkpoint.name,
    steps: checkpoint.history.steps,
    evals: checkpoint.history.evals,
    samples: [],
    phase: 'loading',
    message: `resuming from step ${checkpoint.step}…`,
  };
  return follow(run, (onEvent) => worker.resumeTraining(checkpoint.runId, onEvent));
}

export async function discardCheckpoint(runId: string): Promise<void> {
  await requireWorker().deleteCheckpoint(runId);
  useStudio.setState((s) => ({ checkpoints: s.checkpoints.filter((c) => c.runId !== runId) }));
}

/** Interrupted runs: checkpoints that did not reach their last step. */
export async function findInterruptedRuns(): Promise<void> {
  const checkpoints = await requireWorker().listCheckpoints();
  useStudio.setState({ checkpoints: checkpoints.filter((c) => c.step < c.steps) });
}

/** "Scale out": downloads the PyTorch recipe zip for the current model, data, selection and settings. */
export async function downloadRecipe(): Promise<string> {
  const { settings } = useStudio.getState();
  const file = await requireWorker().exportRecipe(pickTrainConfig(settings));
  downloadBytes(file.fileName, file.bytes, 'application/zip');
  return file.fileName;
}

export const pauseTraining = () => requireWorker().pause();
export const resumeTraining = () => requireWorker().resume();
export const stopTraining = () => requireWorker().stop();
