/**
 * Adapters: download (native S²FT file or PEFT-LoRA zip), import (S²FT file, PEFT LoRA zip or
 * folder), fuse, switch, delete, and generate with the base model or an adapter. The worker keeps
 * every adapter in its IndexedDB store; the page holds only their summaries.
 */
import type { AdapterSummary, GenerateOutput, GenerateRequest } from '../../../workers/api';
import { errorMessage } from '../errorMessage';
import { deleteLegacyAdapter, loadLegacyAdapters } from '../persistence';
import { requireWorker, useStudio } from '../store';

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

/** Re-reads the worker's adapter list (the worker stores every adapter itself). */
export async function refreshAdapters(): Promise<AdapterSummary[]> {
  const adapters = await requireWorker().listAdapters();
  useStudio.setState({ adapters });
  return adapters;
}

/**
 * After a model loads: the worker reads its stored adapters in (once), and adapters an older
 * studio kept in the page's own database move there (then leave it), so none is lost.
 */
export async function restoreAdapters(): Promise<void> {
  const worker = requireWorker();
  const problems = await worker.restoreAdapters();
  for (const kept of await loadLegacyAdapters()) {
    try {
      await worker.importAdapter(kept.fileName, kept.bytes);
      await deleteLegacyAdapter(kept.id);
    } catch (e) {
      problems.push(`"${kept.name}" stays in this browser's old adapter store: ${errorMessage(e)}`);
    }
  }
  for (const problem of problems) console.warn(problem);
  await refreshAdapters();
}

/** One adapter file, or a PEFT LoRA folder's two files picked together. */
export async function importAdapterFiles(files: File[]): Promise<AdapterSummary> {
  const worker = requireWorker();
  const read = await Promise.all(files.map(async (f) => ({ fileName: f.name, bytes: await f.arrayBuffer() })));
  const summary = await worker.importAdapterFiles(read);
  await refreshAdapters();
  return summary;
}

export async function fuseAdapters(ids: string[], weights: number[]): Promise<AdapterSummary> {
  const summary = await requireWorker().fuse(ids, weights);
  await refreshAdapters();
  return summary;
}

/** Downloads the base with the adapters fused at their weights, as a zipped HuggingFace folder. */
export async function downloadFusedModel(ids: string[], weights: number[]): Promise<void> {
  const file = await requireWorker().exportFusedModel(ids, weights);
  downloadBytes(file.fileName, file.bytes, 'application/zip');
}

export async function switchAdapter(id: string): Promise<void> {
  await requireWorker().switchTo(id);
  useStudio.setState({ activeAdapter: id });
}

/** Deletes an adapter for good (the base model is used again if it was in use). */
export async function deleteAdapter(id: string): Promise<void> {
  await requireWorker().deleteAdapter(id);
  if (useStudio.getState().activeAdapter === id) useStudio.setState({ activeAdapter: 'base' });
  await refreshAdapters();
}

export function generate(prompt: string, options: GenerateRequest): Promise<GenerateOutput> {
  return requireWorker().generate(prompt, options);
}
