/**
 * Every choice a person makes in the studio, as one plain record (TensorFlow Playground style):
 * it serialises to the URL hash (only what differs from the defaults, so links stay short) and to
 * a JSON file, and both restore it. Decoding never throws: a bad or unknown field is skipped and
 * reported, and the rest of the setup still applies.
 */

export type MethodName = 's2ft' | 'lora' | 'full';
export type StrategyName = 'random' | 'weight' | 'activation' | 'product' | 'gradient';
export type BudgetKind = 'perLayer' | 'ratio' | 'loraRank';

export interface StudioSettings {
  /** A model directory under /models (the embedded defaults); a checkpoint from disk is not restorable. */
  model: string;
  /** A built-in dataset name from /datasets/index.json, e.g. "toy-tasks/train". */
  dataset: string;
  /** Fraction of the rows held out for validation loss (0 = use none). */
  validationFraction: number;

  strategy: StrategyName;
  pick: 'large' | 'small';
  budget: BudgetKind;
  /** perLayer budget: heads and channels per layer. */
  headsPerLayer: number;
  channelsPerLayer: number;
  /** ratio budget: fractions of all heads and of all channels. */
  headRatio: number;
  channelRatio: number;
  /** loraRank budget: as many trainable parameters as LoRA at this rank. */
  matchRank: number;
  oProj: boolean;
  downProj: boolean;
  vProj: boolean;
  upProj: boolean;
  selectionSeed: number;

  method: MethodName;
  steps: number;
  lr: number;
  warmup: number;
  batchSize: number;
  seqLen: number;
  optimizer: 'adamw' | 'sgd';
  weightDecay: number;
  gradClip: number;
  loraRank: number;
  evalEvery: number;
  sampleEvery: number;
  /** New tokens per sample generation. */
  sampleTokens: number;
  seed: number;
}

/**
 * The first run, one click from opening: 20 S²FT steps on the number-words task ("seven
 * harpoons =" → " 7"), short rows (16 tokens), a high learning rate, and evaluation and samples
 * only before and after, so that it finishes in about two minutes on a CPU-emulated GPU and moves
 * held-out exact match from 0% to over half (public/datasets/number-words/README.md).
 */
export const DEFAULT_SETTINGS: StudioSettings = {
  model: '',
  dataset: 'number-words/train',
  validationFraction: 0.1,
  strategy: 'weight',
  pick: 'large',
  budget: 'perLayer',
  headsPerLayer: 1,
  channelsPerLayer: 32,
  headRatio: 0.1,
  channelRatio: 0.05,
  matchRank: 8,
  oProj: true,
  downProj: true,
  vProj: false,
  upProj: false,
  selectionSeed: 0,
  method: 's2ft',
  steps: 20,
  lr: 3e-2,
  warmup: 0,
  batchSize: 8,
  seqLen: 16,
  optimizer: 'adamw',
  weightDecay: 0,
  gradClip: 1,
  loraRank: 8,
  evalEvery: 0,
  sampleEvery: 20,
  sampleTokens: 4,
  seed: 0,
};

type Key = keyof StudioSettings;

/** How each field is checked when it comes back from a URL or a file. */
type FieldRule =
  | { kind: 'int'; min: number; max: number }
  | { kind: 'number'; min: number; max: number }
  | { kind: 'bool' }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'string'; maxLength: number };

const int = (min: number, max: number): FieldRule => ({ kind: 'int', min, max });
const num = (min: number, max: number): FieldRule => ({ kind: 'number', min, max });
const bool: FieldRule = { kind: 'bool' };
const oneOf = (...values: string[]): FieldRule => ({ kind: 'enum', values });
const text: FieldRule = { kind: 'string', maxLength: 200 };

export const SETTING_RULES: Record<Key, FieldRule> = {
  model: text,
  dataset: text,
  validationFraction: num(0, 0.5),
  strategy: oneOf('random', 'weight', 'activation', 'product', 'gradient'),
  pick: oneOf('large', 'small'),
  budget: oneOf('perLayer', 'ratio', 'loraRank'),
  headsPerLayer: int(0, 4096),
  channelsPerLayer: int(0, 1 << 20),
  headRatio: num(0, 1),
  channelRatio: num(0, 1),
  matchRank: int(1, 4096),
  oProj: bool,
  downProj: bool,
  vProj: bool,
  upProj: bool,
  selectionSeed: int(0, 2 ** 31 - 1),
  method: oneOf('s2ft', 'lora', 'full'),
  steps: int(1, 1_000_000),
  lr: num(1e-8, 10),
  warmup: int(0, 1_000_000),
  batchSize: int(1, 1024),
  seqLen: int(2, 8192),
  optimizer: oneOf('adamw', 'sgd'),
  weightDecay: num(0, 10),
  gradClip: num(0, 1e6),
  loraRank: int(1, 4096),
  evalEvery: int(0, 1_000_000),
  sampleEvery: int(0, 1_000_000),
  sampleTokens: int(1, 512),
  seed: int(0, 2 ** 31 - 1),
};

const KEYS = Object.keys(DEFAULT_SETTINGS) as Key[];

export interface DecodedSettings {
  settings: StudioSettings;
  /** One sentence per field that was skipped, naming it and why. */
  problems: string[];
}

type Parsed = { ok: true; value: StudioSettings[Key] } | { ok: false; reason: string };

/** Checks one raw value (a URL string or a JSON value) against its rule. */
function parseField(key: Key, raw: unknown): Parsed {
  const rule = SETTING_RULES[key];
  const refuse = (expected: string): Parsed => ({
    ok: false,
    reason: `${key} must be ${expected}, got ${JSON.stringify(raw)}`,
  });
  switch (rule.kind) {
    case 'bool':
      if (raw === true || raw === '1' || raw === 'true') return { ok: true, value: true };
      if (raw === false || raw === '0' || raw === 'false') return { ok: true, value: false };
      return refuse('true or false');
    case 'enum':
      return typeof raw === 'string' && rule.values.includes(raw)
        ? { ok: true, value: raw }
        : refuse(`one of ${rule.values.join(', ')}`);
    case 'string':
      return typeof raw === 'string' && raw.length <= rule.maxLength
        ? { ok: true, value: raw }
        : refuse(`a string of at most ${rule.maxLength} characters`);
    case 'int':
    case 'number': {
      const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(value)) return refuse('a number');
      if (rule.kind === 'int' && !Number.isInteger(value)) return refuse('a whole number');
      if (value < rule.min || value > rule.max) return refuse(`from ${rule.min} to ${rule.max}`);
      return { ok: true, value };
    }
  }
}

function applyFields(entries: Iterable<[string, unknown]>, source: string): DecodedSettings {
  const settings: StudioSettings = { ...DEFAULT_SETTINGS };
  const writable = settings as unknown as Record<Key, StudioSettings[Key]>;
  const problems: string[] = [];
  for (const [name, raw] of entries) {
    if (!(KEYS as string[]).includes(name)) {
      problems.push(`${source}: unknown setting "${name}" ignored`);
      continue;
    }
    const parsed = parseField(name as Key, raw);
    if (parsed.ok) writable[name as Key] = parsed.value;
    else problems.push(`${source}: ${parsed.reason}`);
  }
  return { settings, problems };
}

/** The URL hash for these settings: only fields that differ from the defaults, e.g. "#method=lora&steps=30". */
export function encodeSettingsHash(settings: StudioSettings): string {
  const params = new URLSearchParams();
  for (const key of KEYS) {
    const value = settings[key];
    if (value === DEFAULT_SETTINGS[key]) continue;
    params.set(key, typeof value === 'boolean' ? (value ? '1' : '0') : String(value));
  }
  const query = params.toString();
  return query ? `#${query}` : '';
}

/** Settings from a URL hash ("#a=1&b=2" or "a=1&b=2"); missing fields keep their defaults. */
export function decodeSettingsHash(hash: string): DecodedSettings {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  return applyFields(params.entries(), 'link');
}

export const SETTINGS_FILE_KIND = 's2ft-studio-settings';

/** The settings as a JSON file's text, every field written out so the file documents itself. */
export function settingsToJson(settings: StudioSettings): string {
  return `${JSON.stringify({ kind: SETTINGS_FILE_KIND, version: 1, settings }, null, 2)}\n`;
}

/** Settings from a JSON file's text; a file that is not a settings file at all is one problem. */
export function settingsFromJson(text: string, fileName: string): DecodedSettings {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return {
      settings: { ...DEFAULT_SETTINGS },
      problems: [`${fileName}: not JSON (${e instanceof Error ? e.message : String(e)})`],
    };
  }
  const record = parsed as { kind?: unknown; settings?: unknown } | null;
  if (
    record === null ||
    typeof record !== 'object' ||
    record.kind !== SETTINGS_FILE_KIND ||
    record.settings === null ||
    typeof record.settings !== 'object' ||
    Array.isArray(record.settings)
  ) {
    return {
      settings: { ...DEFAULT_SETTINGS },
      problems: [
        `${fileName}: not a studio settings file (expected "kind": "${SETTINGS_FILE_KIND}" and a "settings" object)`,
      ],
    };
  }
  return applyFields(Object.entries(record.settings as Record<string, unknown>), fileName);
}
