/**
 * Any adapter the studio takes, recognised by its content:
 *
 *   one .safetensors file with metadata format "s2ft"        → native S²FT (s2ft/adapter.ts)
 *   a folder or zip with adapter_config.json and
 *   adapter_model.safetensors (at its root or in one folder)  → PEFT LoRA (loraAdapter.ts)
 *
 * and its update for a given model as blocks fuse.ts applies, after the checks that it was made
 * for that model. Files a PEFT folder may also hold (README.md, training_args.bin, ...) are ignored.
 */
import { unzipSync } from 'fflate';
import { UserError } from '../errors';
import type { ModelConfig } from '../model/types';
import {
  MAX_ADAPTER_BYTES,
  checkAdapterFitsModel,
  decodeS2ftAdapter,
  type BaseModelId,
  type S2ftAdapter,
} from '../s2ft/adapter';
import type { FuseBlock } from '../s2ft/fuse';
import { PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE, type PeftFiles } from '../s2ft/peft';
import { decodePeftLora, loraUpdate, type PeftLoraAdapter } from './loraAdapter';

export type DecodedAdapter =
  | { kind: 's2ft'; label: string; adapter: S2ftAdapter }
  /** `files`: the two PEFT files as read, to export or store unchanged. */
  | { kind: 'lora'; label: string; adapter: PeftLoraAdapter; files: PeftFiles };

/** Most entries a zip may list: a PEFT folder has a handful. */
const MAX_ZIP_ENTRIES = 1000;

const isZip = (bytes: Uint8Array) =>
  bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5);

/** One file: a zip of a PEFT LoRA folder, or a native S²FT .safetensors. */
export function decodeAdapterFile(bytes: Uint8Array, label: string): DecodedAdapter {
  if (!isZip(bytes)) return { kind: 's2ft', label, adapter: decodeS2ftAdapter(bytes, label) };
  let entries = 0;
  let total = 0;
  let pickled: string | null = null; // adapter_model.bin: not read, but named in the message
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {
      filter: (file) => {
        if (++entries > MAX_ZIP_ENTRIES)
          throw new UserError('bad-file', `zip lists over ${MAX_ZIP_ENTRIES} files`, label);
        const base = file.name.split('/').pop()!;
        if (base === 'adapter_model.bin') pickled = file.name;
        if (base !== PEFT_CONFIG_FILE && base !== PEFT_WEIGHTS_FILE) return false;
        total += file.originalSize;
        if (file.originalSize > MAX_ADAPTER_BYTES || total > 2 * MAX_ADAPTER_BYTES)
          throw new UserError(
            'too-large',
            `"${file.name}" unpacks to ${file.originalSize} bytes, over the limit`,
            label,
          );
        return true;
      },
    });
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError('bad-file', `is not a readable zip (${(e as Error).message})`, label);
  }
  const found = new Map(Object.entries(files));
  if (pickled !== null) found.set(pickled, new Uint8Array());
  return decodeAdapterFolder(found, label);
}

/** A folder's (or zip's) files by relative path. */
export function decodeAdapterFolder(files: ReadonlyMap<string, Uint8Array>, label: string): DecodedAdapter {
  const find = (name: string): string[] =>
    [...files.keys()].filter((path) => path === name || (path.endsWith(`/${name}`) && path.split('/').length === 2));
  const configs = find(PEFT_CONFIG_FILE);
  const weights = find(PEFT_WEIGHTS_FILE);
  if (configs.length > 1 || weights.length > 1)
    throw new UserError('bad-file', `holds more than one ${PEFT_CONFIG_FILE} or ${PEFT_WEIGHTS_FILE}`, label);
  if (configs.length === 0 || weights.length === 0) {
    const pickle = [...files.keys()].some((p) => p.endsWith('adapter_model.bin'));
    const missing = configs.length === 0 ? PEFT_CONFIG_FILE : PEFT_WEIGHTS_FILE;
    throw new UserError(
      'missing-file',
      `has no ${missing}${pickle && missing === PEFT_WEIGHTS_FILE ? ' (found adapter_model.bin: only safetensors weights are supported)' : ''}; a PEFT LoRA adapter has ${PEFT_CONFIG_FILE} and ${PEFT_WEIGHTS_FILE}`,
      label,
    );
  }
  const folder = (path: string) => (path.includes('/') ? path.split('/')[0] : '');
  if (folder(configs[0]) !== folder(weights[0]))
    throw new UserError('bad-file', `has ${configs[0]} and ${weights[0]} in different folders`, label);
  const peft: PeftFiles = { [PEFT_CONFIG_FILE]: files.get(configs[0])!, [PEFT_WEIGHTS_FILE]: files.get(weights[0])! };
  return {
    kind: 'lora',
    label,
    adapter: decodePeftLora(peft[PEFT_CONFIG_FILE], peft[PEFT_WEIGHTS_FILE], label),
    files: peft,
  };
}

/**
 * The adapter's update for this model as fuse.ts blocks, with the notes to show (old fingerprint
 * kind, fan_in_fan_out, modules without weights). Throws a UserError when it does not fit.
 */
export function adapterBlocks(
  decoded: DecodedAdapter,
  config: ModelConfig,
  base: BaseModelId,
): { blocks: FuseBlock[]; notes: string[] } {
  if (decoded.kind === 'lora') return loraUpdate(decoded.adapter, config, base, decoded.label);
  const note = checkAdapterFitsModel(decoded.adapter, config, base, decoded.label);
  return { blocks: decoded.adapter.blocks, notes: note ? [note] : [] };
}
