/** Choosing the heads and channels S²FT trains, by strategy or from a selection file. */
import { errorMessage } from '../errorMessage';
import { selectConfig } from '../requests';
import { requireWorker, useStudio } from '../store';

export async function runSelection(): Promise<boolean> {
  const worker = requireWorker();
  useStudio.setState({ selection: { status: 'busy' } });
  try {
    const summary = await worker.select(selectConfig(useStudio.getState().settings));
    useStudio.setState({ selection: { status: 'ready', value: summary } });
    return true;
  } catch (e) {
    useStudio.setState({ selection: { status: 'failed', message: errorMessage(e) } });
    return false;
  }
}

export async function applySelectionFile(file: File): Promise<boolean> {
  const worker = requireWorker();
  useStudio.setState({ selection: { status: 'busy' } });
  try {
    const summary = await worker.useSelectionFile(await file.text(), file.name);
    useStudio.setState({ selection: { status: 'ready', value: summary } });
    return true;
  } catch (e) {
    useStudio.setState({ selection: { status: 'failed', message: errorMessage(e) } });
    return false;
  }
}
