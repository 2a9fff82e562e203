/**
 * The JSON selection file (ARCHITECTURE.md "File formats"):
 *   { "layers": [ { "heads": [1, 3], "channels": [0, 5, 17] }, ... ] }
 * one entry per layer, indices in the checkpoint's original coordinates; optional "vHeads"
 * (key/value heads whose v_proj rows are trained) and "upChannels" (up_proj rows).
 * Every problem is a UserError naming the file and the exact field.
 */
import { describeJson } from '../describeJson';
import { UserError } from '../errors';
import type { ModelConfig } from '../model/types';
import type { LayerSelection, Selection } from './types';

type IndexField = 'heads' | 'channels' | 'vHeads' | 'upChannels';

/**
 * Largest selection file read (characters). Selecting every FFN channel of every layer of an 8B
 * model (32 layers × 14 336 channels, twice) takes about 6 million; more is not a selection.
 */
export const MAX_SELECTION_CHARS = 16_000_000;

/** Text of a selection file, indices sorted, one layer per line. */
export function writeSelectionFile(selection: Selection): string {
  const layers = selection.layers.map((l) => {
    const entry: LayerSelection = { heads: sorted(l.heads), channels: sorted(l.channels) };
    if (l.vHeads) entry.vHeads = sorted(l.vHeads);
    if (l.upChannels) entry.upChannels = sorted(l.upChannels);
    return '    ' + JSON.stringify(entry);
  });
  return `{\n  "layers": [\n${layers.join(',\n')}\n  ]\n}\n`;
}

/** Parse and validate a selection file's text against the model it is for. */
export function readSelectionFile(text: string, config: ModelConfig, file = 'selection.json'): Selection {
  if (text.length > MAX_SELECTION_CHARS) {
    throw new UserError(
      'too-large',
      `selection file has ${text.length} characters, over the limit of ${MAX_SELECTION_CHARS}`,
      file,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError('bad-file', `not valid JSON (${(e as Error).message})`, file);
  }
  return validateSelection(json, config, file);
}

/** Check a parsed selection (from a file or the UI) against a model configuration. */
export function validateSelection(json: unknown, config: ModelConfig, file = 'selection.json'): Selection {
  const fail = (code: 'bad-file' | 'wrong-model', message: string): never => {
    throw new UserError(code, message, file);
  };
  if (!isObject(json) || !Array.isArray(json.layers))
    return fail('bad-file', 'expected an object with a "layers" array');
  const layers = json.layers as unknown[];
  if (layers.length !== config.numLayers)
    fail('wrong-model', `"layers" has ${layers.length} entries but the model has ${config.numLayers} layers`);
  const limits: Record<IndexField, [number, string]> = {
    heads: [config.numHeads, 'heads'],
    channels: [config.intermediateSize, 'FFN channels'],
    vHeads: [config.numKvHeads, 'key/value heads'],
    upChannels: [config.intermediateSize, 'FFN channels'],
  };
  return {
    layers: layers.map((entry, i): LayerSelection => {
      const at = `layers[${i}]`;
      if (!isObject(entry)) return fail('bad-file', `${at} must be an object`);
      for (const key of Object.keys(entry))
        if (!Object.hasOwn(limits, key))
          fail('bad-file', `${at} has unknown field "${key}" (expected heads, channels, vHeads, upChannels)`);
      const field = (name: IndexField, required: boolean): number[] | undefined => {
        const value = entry[name];
        if (value === undefined) return required ? fail('bad-file', `${at}.${name} is missing`) : undefined;
        if (!Array.isArray(value)) return fail('bad-file', `${at}.${name} must be an array of integers`);
        const [limit, what] = limits[name];
        const seen = new Set<number>();
        value.forEach((v: unknown, j) => {
          const where = `${at}.${name}[${j}] = ${describeJson(v)}`;
          if (typeof v !== 'number' || !Number.isInteger(v)) fail('bad-file', `${where} is not an integer`);
          const n = v as number;
          if (n < 0 || n >= limit) fail('wrong-model', `${where} is out of range (model has ${limit} ${what})`);
          if (seen.has(n)) fail('bad-file', `${where} is listed twice`);
          seen.add(n);
        });
        return value as number[];
      };
      const layer: LayerSelection = { heads: field('heads', true)!, channels: field('channels', true)! };
      const vHeads = field('vHeads', false);
      const upChannels = field('upChannels', false);
      if (vHeads) layer.vHeads = vHeads;
      if (upChannels) layer.upChannels = upChannels;
      return layer;
    }),
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sorted(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}
