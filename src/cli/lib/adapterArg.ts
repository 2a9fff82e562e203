/**
 * `--adapter PATH` for the commands: a native S²FT .safetensors, a PEFT LoRA folder
 * (adapter_config.json + adapter_model.safetensors), either file of that folder, or its zip.
 * Sizes are checked on disk before a byte is read.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../core/errors';
import { decodeAdapterFile, decodeAdapterFolder, type DecodedAdapter } from '../../core/peft/anyAdapter';
import { MAX_ADAPTER_BYTES } from '../../core/s2ft/adapter';
import { PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE } from '../../core/s2ft/peft';
import { readUserBytes } from './files';

export async function readAdapterArg(file: string): Promise<DecodedAdapter> {
  if (!existsSync(file)) throw new UserError('missing-file', 'adapter not found', file);
  const isFolder = statSync(file).isDirectory();
  const base = path.basename(file);
  const folder = isFolder
    ? file
    : (base === PEFT_CONFIG_FILE || base === PEFT_WEIGHTS_FILE) &&
        existsSync(path.join(path.dirname(file), PEFT_CONFIG_FILE))
      ? path.dirname(file)
      : null;
  if (folder === null) return decodeAdapterFile(await readUserBytes(file, 'adapter file', MAX_ADAPTER_BYTES), file);
  const files = new Map<string, Uint8Array>();
  for (const name of readdirSync(folder)) {
    if (name === PEFT_CONFIG_FILE || name === PEFT_WEIGHTS_FILE)
      files.set(name, await readUserBytes(path.join(folder, name), 'adapter file', MAX_ADAPTER_BYTES));
    else if (name === 'adapter_model.bin') files.set(name, new Uint8Array());
  }
  return decodeAdapterFolder(files, folder);
}
