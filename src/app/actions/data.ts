/** Loading training data: a built-in dataset or the person's own .txt / .jsonl file. */
import type { DataSource } from '../../../workers/api';
import { errorMessage } from '../errorMessage';
import { requireWorker, useStudio } from '../store';

/** `validation`: a separate held-out file (a built-in test split) instead of a share of the rows. */
export async function loadData(source: DataSource, validation?: DataSource): Promise<boolean> {
  const worker = requireWorker();
  const { settings } = useStudio.getState();
  useStudio.setState({ data: { status: 'busy' }, selection: { status: 'idle' } });
  try {
    const summary = await worker.loadData(source, {
      validationFraction: settings.validationFraction,
      seed: settings.seed,
      ...(validation ? { validation } : {}),
    });
    useStudio.setState({ data: { status: 'ready', value: summary }, dataSource: source });
    return true;
  } catch (e) {
    useStudio.setState({ data: { status: 'failed', message: errorMessage(e) } });
    return false;
  }
}

/** The built-in dataset the settings name, loaded by its index entry. */
export async function loadBuiltinData(name: string): Promise<boolean> {
  const entry = useStudio.getState().builtinDatasets.find((d) => d.name === name);
  if (!entry) {
    useStudio.setState({ data: { status: 'failed', message: `no built-in dataset named "${name}"` } });
    return false;
  }
  useStudio.getState().updateSettings({ dataset: name });
  return loadData(
    { kind: 'builtin', path: entry.file },
    entry.validation ? { kind: 'builtin', path: entry.validation } : undefined,
  );
}

export async function loadDataFile(file: File): Promise<boolean> {
  return loadData({ kind: 'file', name: file.name, text: await file.text() });
}
