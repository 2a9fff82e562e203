/** Loading a base model: the embedded default or a HF checkpoint from the person's disk. */
import * as Comlink from 'comlink';
import type { BuiltinModelEntry, ModelLoadProgress, ModelSource } from '../../../workers/api';
import { errorMessage } from '../errorMessage';
import { modelDefaults } from '../requests';
import { requireWorker, useStudio } from '../store';
import { restoreAdapters } from './adapters';

/** The directory the pretraining script writes the embedded model to, when no index lists it. */
export const FALLBACK_MODEL: BuiltinModelEntry = {
  name: 'moby-llama-800k',
  url: '/models/moby-llama-800k/',
  heldout: 'moby-dick-heldout/moby-dick-heldout.txt',
};

export function builtinSource(entry: BuiltinModelEntry): ModelSource {
  return { kind: 'builtin', url: entry.url, name: entry.name, files: entry.files, heldout: entry.heldout };
}

/** The model the studio opens with: the one the settings name, else the index's first, else the known directory. */
export function defaultModel(): BuiltinModelEntry {
  const { builtinModels, settings } = useStudio.getState();
  return builtinModels.find((m) => m.name === settings.model) ?? builtinModels[0] ?? FALLBACK_MODEL;
}

export async function loadModel(source: ModelSource): Promise<boolean> {
  const worker = requireWorker();
  const set = useStudio.setState;
  set({
    model: { status: 'busy' },
    data: { status: 'idle' },
    selection: { status: 'idle' },
    adapters: [],
    activeAdapter: 'base',
  });
  // The worker delivers every progress event before it answers (training.worker.ts `delivering`).
  const onProgress = (progress: ModelLoadProgress) => set({ model: { status: 'busy', progress } });
  try {
    const summary = await worker.loadModel(source, Comlink.proxy(onProgress));
    const { settings, updateSettings } = useStudio.getState();
    updateSettings({
      ...modelDefaults(summary.config, settings),
      model: source.kind === 'builtin' ? summary.name : settings.model,
    });
    set({ model: { status: 'ready', value: summary }, modelSource: source });
    await restoreAdapters();
    return true;
  } catch (e) {
    set({ model: { status: 'failed', message: errorMessage(e) } });
    return false;
  }
}
