/**
 * `--model DIR` for the commands: resolving the directory (a path, or `default` for the one model
 * the studio ships under public/models/) and loading it with its tokenizer and `--adapter`s.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../core/errors';
import { TOKENIZER_FILE, loadCheckpoint, type LoadedCheckpoint } from '../../core/io/checkpoint';
import { nodeDirectorySource } from '../../core/io/nodeFiles';
import { loadTokenizer, type TextTokenizer } from '../../core/model/tokenizer';
import type { LlamaModel } from '../../core/model/types';
import { adapterBlocks } from '../../core/peft/anyAdapter';
import { fuseAdapters, releaseReplacedWeights, type WeightedAdapter } from '../../core/s2ft/fuse';
import { readAdapterArg } from './adapterArg';
import type { Flags } from './args';
import { initNodeBackend } from './backend';

export const EMBEDDED_MODELS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../public/models');

export function resolveModelDir(value: string, modelsDir = EMBEDDED_MODELS_DIR): string {
  if (value === 'default') {
    const dirs = existsSync(modelsDir)
      ? readdirSync(modelsDir).filter((d) => statSync(path.join(modelsDir, d)).isDirectory())
      : [];
    if (dirs.length !== 1)
      throw new UserError(
        'missing-file',
        `--model default needs exactly one model directory in ${modelsDir}, found ${dirs.length}`,
      );
    return path.join(modelsDir, dirs[0]);
  }
  if (!existsSync(value)) throw new UserError('missing-file', 'model directory not found', value);
  if (!statSync(value).isDirectory())
    throw new UserError('bad-argument', '--model must be a checkpoint directory, not a file', value);
  return value;
}

export function modelDirFlag(flags: Flags): string {
  return resolveModelDir(flags.requireString('model'));
}

export interface CliModel extends LoadedCheckpoint {
  dir: string;
  model: LlamaModel;
  /** null when the directory has no tokenizer.json (token-id work only). */
  tokenizer: TextTokenizer | null;
  /** The adapters fused into `model` (by `--adapter`). */
  adapters: string[];
  /** One-line notes about the adapters (old fingerprint kind, ...), printed by printLoadWarnings. */
  adapterNotes: string[];
}

/**
 * `--model DIR [--adapter FILE]...`: the checkpoint on the Node backend, its tokenizer and the
 * adapters fused into its weights. Load warnings (no tokenizer, ignored tensors) are left to the
 * command to print (printLoadWarnings) once its own inputs are checked, so that a user error is
 * still the one line on stderr.
 */
export async function loadCliModel(flags: Flags): Promise<CliModel> {
  await initNodeBackend();
  const dir = modelDirFlag(flags);
  const adapterFiles = flags.all('adapter');
  const loaded = await loadCheckpoint(await nodeDirectorySource(dir));
  const tokenizer = loaded.tokenizerJson
    ? loadTokenizer(loaded.tokenizerJson, loaded.tokenizerConfig, `${loaded.name}/${TOKENIZER_FILE}`)
    : null;
  const weighted = await readAdapters(adapterFiles, Array<number>(adapterFiles.length).fill(1), loaded);
  let weights = loaded.weights;
  if (weighted.adapters.length > 0) {
    const fused = fuseAdapters(weights, weighted.adapters);
    releaseReplacedWeights(weights, fused);
    weights = fused;
  }
  return {
    ...loaded,
    weights,
    dir,
    model: { config: loaded.config, weights },
    tokenizer,
    adapters: adapterFiles,
    adapterNotes: weighted.notes,
  };
}

/**
 * `--adapter` paths (native S²FT or PEFT LoRA, see adapterArg.ts) with their fusion weights,
 * each checked against the loaded model.
 */
export async function readAdapters(
  files: string[],
  weights: number[],
  loaded: Pick<LoadedCheckpoint, 'config' | 'name' | 'fingerprint' | 'sampledFingerprint'>,
): Promise<{ adapters: WeightedAdapter[]; notes: string[] }> {
  const base = { name: loaded.name, fingerprint: loaded.fingerprint, sampledFingerprint: loaded.sampledFingerprint };
  const notes: string[] = [];
  const adapters: WeightedAdapter[] = [];
  for (const [i, file] of files.entries()) {
    const update = adapterBlocks(await readAdapterArg(file), loaded.config, base);
    notes.push(...update.notes);
    adapters.push({ adapter: update, weight: weights[i] });
  }
  return { adapters, notes };
}

export function printLoadWarnings(loaded: Pick<CliModel, 'name' | 'warnings' | 'adapterNotes'>): void {
  for (const w of loaded.warnings) console.error(`warning: ${loaded.name}: ${w}`);
  for (const note of loaded.adapterNotes) console.error(`note: ${note}`);
}
