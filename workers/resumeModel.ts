/**
 * The model a saved run continues on. The loaded model when it is the run's (same fingerprint);
 * otherwise a built-in model comes back from its URL by itself, and a model from the user's files
 * is asked for again. A reloaded model that no longer matches is disposed: the loaded one stays.
 */
import { UserError } from '../src/core/errors';
import type { CheckpointRecord } from './checkpoints';
import { loadModel, type DeviceLimits, type LoadedModel } from './modelLoader';

/** null when `loaded` is the run's model; the reloaded built-in model otherwise (the caller owns it). */
export async function modelForResume(
  record: CheckpointRecord,
  loaded: LoadedModel | null,
  limits: DeviceLimits,
  fetchImpl: typeof fetch,
): Promise<LoadedModel | null> {
  const { summary } = record;
  if (loaded && isModel(loaded, summary.modelFingerprint)) return null;
  if (summary.modelSource.kind === 'files') {
    const current = loaded ? `"${loaded.name}" (fingerprint ${loaded.fingerprint}) is loaded` : 'no model is loaded';
    throw new UserError(
      'wrong-model',
      `run "${summary.name}" was trained on "${summary.modelName}" (fingerprint ${summary.modelFingerprint}) from your files; ` +
        `${current}. Load the same model folder again, then resume.`,
    );
  }
  const heldout = record.config.heldout === 'none' ? undefined : record.config.heldout;
  const reloaded = await loadModel({ kind: 'builtin', url: summary.modelSource.url, heldout }, limits, fetchImpl);
  if (isModel(reloaded, summary.modelFingerprint)) return reloaded;
  reloaded.dispose();
  throw new UserError(
    'wrong-model',
    `the built-in model at ${summary.modelSource.url} changed since run "${summary.name}" was saved (fingerprint ${reloaded.fingerprint}, the run's ${summary.modelFingerprint})`,
  );
}

/** A run saved before every weight was fingerprinted records the old, sampled kind. */
function isModel(loaded: LoadedModel, fingerprint: string): boolean {
  return fingerprint === loaded.fingerprint || fingerprint === loaded.sampledFingerprint;
}
