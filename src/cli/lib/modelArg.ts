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
import { checkAdapterFitsModel, decodeS2ftAdapter, MAX_ADAPTER_BYTES } from '../../core/s2ft/adapter';
import { fuseAdapters, releaseReplacedWeights } from '../../core/s2ft/fuse';
import { readUserBytes } from './files';
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
  /** The native S²FT adapters fused into `model` (by `--adapter`). */
  adapters: string[];
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
  let weights = loaded.weights;
  if (adapterFiles.length > 0) {
    const base = { name: loaded.name, fingerprint: loaded.fingerprint };
    const adapters = await Promise.all(
      adapterFiles.map(async (file) => {
        const adapter = decodeS2ftAdapter(await readUserBytes(file, 'adapter file', MAX_ADAPTER_BYTES), file);
        checkAdapterFitsModel(adapter, loaded.config, base, file);
        return { adapter, weight: 1 };
      }),
    );
    const fused = fuseAdapters(weights, adapters);
    releaseReplacedWeights(weights, fused);
    weights = fused;
  }
  return { ...loaded, weights, dir, model: { config: loaded.config, weights }, tokenizer, adapters: adapterFiles };
}

export function printLoadWarnings(loaded: Pick<LoadedCheckpoint, 'name' | 'warnings'>): void {
  for (const w of loaded.warnings) console.error(`warning: ${loaded.name}: ${w}`);
}
