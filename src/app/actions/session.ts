/**
 * Opening the studio: settings from the link, the built-in lists, the default model and dataset,
 * the kept runs, and any interrupted run to offer for resuming. Afterwards every settings change
 * is written back to the link, so the address bar always holds a shareable setup.
 */
import type { ModelSource } from '../../../workers/api';
import { errorMessage } from '../errorMessage';
import { loadRuns } from '../persistence';
import { decodeSettingsHash, encodeSettingsHash } from '../settings';
import { requireWorker, useStudio } from '../store';
import { loadBuiltinData, loadData } from './data';
import { builtinSource, defaultModel, loadModel } from './model';
import { runSelection } from './selection';
import { findInterruptedRuns } from './train';

export function restoreSettingsFromLink(): void {
  const { settings, problems } = decodeSettingsHash(window.location.hash);
  useStudio.setState({ settings, settingsProblems: problems });
}

/** Keeps the URL hash in step with the settings; returns the unsubscribe function. */
export function syncSettingsToLink(): () => void {
  return useStudio.subscribe((state, previous) => {
    if (state.settings === previous.settings) return;
    const hash = encodeSettingsHash(state.settings);
    history.replaceState(null, '', hash || `${window.location.pathname}${window.location.search}`);
  });
}

/**
 * Lists, the kept runs, then the model and data: the ones last loaded (when a restarted worker
 * reopens the studio) or the defaults the settings name; a first selection; interrupted runs.
 */
export async function openSession(): Promise<void> {
  const worker = requireWorker();
  try {
    const [models, datasets, runs] = await Promise.all([
      worker.listBuiltinModels(),
      worker.listBuiltinDatasets(),
      loadRuns(),
    ]);
    useStudio.setState({ builtinModels: models, builtinDatasets: datasets, runs });
  } catch (e) {
    useStudio.setState({ model: { status: 'failed', message: errorMessage(e) } });
    return;
  }
  const { modelSource } = useStudio.getState();
  if (!(await openModel(modelSource ?? builtinSource(defaultModel())))) return;
  await findInterruptedRuns();
}

/**
 * A model, then the dataset the person had chosen tokenized again for it (the one last loaded, else
 * the settings' built-in one) and units selected with the model's defaults: "Start training" is
 * one click away after every model change. The Data panel shows the dataset as loading, never the
 * old model's tokens as ready. False when the model did not load.
 */
export async function openModel(source: ModelSource): Promise<boolean> {
  if (!(await loadModel(source))) return false;
  const { dataSource, settings } = useStudio.getState();
  // A built-in reloads by name (settings.dataset follows it), which brings its validation split along.
  const reload = dataSource?.kind === 'file' ? loadData(dataSource) : loadBuiltinData(settings.dataset);
  if (await reload) await runSelection();
  return true;
}
