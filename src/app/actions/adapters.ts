/**
 * Adapters: download (native S²FT file or PEFT-LoRA zip), import, fuse, switch, and generate
 * with the base model or an adapter. Native S²FT adapters are kept in IndexedDB and re-imported
 * when a model they fit is loaded again.
 */
import type { AdapterSummary, GenerateOutput, GenerateRequest } from '../../../workers/api';
import { deleteAdapter, loadAdapters, saveAdapter } from '../persistence';
import { requireWorker, useStudio } from '../store';

/** Worker adapter id → the id it is stored under in IndexedDB. */
const stored = new Map<string, string>();

/** Saves a file to the person's downloads folder through a temporary <a download>. */
export function downloadBytes(fileName: string, bytes: ArrayBuffer | string, type: string): void {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export async function downloadAdapter(kind: 's2ft' | 'peft-zip', adapterId?: string): Promise<void> {
  const file = await requireWorker().exportAdapter(kind, adapterId);
  downloadBytes(file.fileName, file.bytes, kind === 's2ft' ? 'application/octet-stream' : 'application/zip');
}

/** Re-reads the worker's adapter list and stores any native adapter not yet kept. */
export async function refreshAdapters(): Promise<AdapterSummary[]> {
  const worker = requireWorker();
  const adapters = await worker.listAdapters();
  useStudio.setState({ adapters });
  for (const adapter of adapters) {
    if (stored.has(adapter.id) || adapter.kind === 'lora' || !adapter.fits) continue;
    const file = await worker.exportAdapter('s2ft', adapter.id);
    await saveAdapter({
      id: adapter.id,
      name: adapter.name,
      fileName: file.fileName,
      bytes: file.bytes,
      savedAt: Date.now(),
    });
    stored.set(adapter.id, adapter.id);
  }
  return adapters;
}

/** After a model loads: imports the kept adapters made for it; others stay stored for their model. */
export async function restoreAdapters(): Promise<void> {
  const worker = requireWorker();
  stored.clear();
  for (const kept of await loadAdapters()) {
    try {
      const summary = await worker.importAdapter(kept.fileName, kept.bytes);
      stored.set(summary.id, kept.id);
    } catch {
      // Made for another base model: it stays in IndexedDB until that model is loaded.
    }
  }
  useStudio.setState({ adapters: await worker.listAdapters() });
}

export async function importAdapterFile(file: File): Promise<AdapterSummary> {
  const worker = requireWorker();
  const summary = await worker.importAdapter(file.name, await file.arrayBuffer());
  await refreshAdapters();
  return summary;
}

export async function fuseAdapters(ids: string[], weights: number[]): Promise<AdapterSummary> {
  const summary = await requireWorker().fuse(ids, weights);
  await refreshAdapters();
  return summary;
}

export async function switchAdapter(id: string): Promise<void> {
  await requireWorker().switchTo(id);
  useStudio.setState({ activeAdapter: id });
}

export async function forgetAdapter(id: string): Promise<void> {
  const key = stored.get(id);
  if (key) await deleteAdapter(key);
  stored.delete(id);
}

export function generate(prompt: string, options: GenerateRequest): Promise<GenerateOutput> {
  return requireWorker().generate(prompt, options);
}
