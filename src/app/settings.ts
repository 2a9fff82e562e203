/**
 * Every choice a person makes in the studio, as one plain record (TensorFlow Playground style):
 * it serialises to the URL hash (only what differs from the defaults, so links stay short) and to
 * a JSON file, and both restore it. Decoding never throws: a bad or unknown field is skipped and
 * reported, and the rest of the setup still applies. The training fields, their rules and their
 * defaults are the core's (src/core/train/config.ts); what the studio adds is model, data and selection.
 */
import { bool, int, num, oneOf, parseField, text, type FieldRule } from '../core/fieldRules';
import { PICK_SIDES, STRATEGIES, type PickSide, type Strategy } from '../core/s2ft/strategies';
import { DEFAULT_TRAIN_CONFIG, TRAIN_FIELDS, TRAIN_KEYS, type TrainConfig, type TrainKey } from '../core/train/config';

export const BUDGET_KINDS = ['perLayer', 'ratio', 'loraRank'] as const;
export type BudgetKind = (typeof BUDGET_KINDS)[number];

/** The studio's own choices: model, data and selection. The training fields are the core's TrainConfig. */
interface StudioChoices {
  /** A model directory under /models (the embedded defaults); a checkpoint from disk is not restorable. */
  model: string;
  /** A built-in dataset name from /datasets/index.json, e.g. "toy-tasks/train". */
  dataset: string;
  /** Fraction of the rows held out for validation loss (0 = use none). */
  validationFraction: number;

  strategy: Strategy;
  pick: PickSide;
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
}

export type StudioSettings = StudioChoices & TrainConfig;

/**
 * The core's training defaults suit the CLI's longer runs on real data. The studio opens on the
 * first run, one click away: 20 S²FT steps on the number-words task ("seven harpoons =" → " 7"),
 * short rows (16 tokens), a high learning rate without warm-up, and evaluation and samples only
 * before and after, so that it ends within minutes on a CPU-emulated GPU and moves held-out exact
 * match from 0% to over half (public/datasets/number-words/README.md, bench/experiments/firstRun.ts).
 */
const STUDIO_TRAINING: Partial<TrainConfig> = {
  steps: 20,
  lr: 3e-2,
  warmup: 0,
  seqLen: 16,
  evalEvery: 0,
  sampleEvery: 20,
  sampleTokens: 4,
};

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
  ...DEFAULT_TRAIN_CONFIG,
  ...STUDIO_TRAINING,
};

type Key = keyof StudioSettings;

/** How each field is checked when it comes back from a URL or a file: the training fields by the core's rules. */
export const SETTING_RULES: Record<Key, FieldRule> = {
  model: text(200),
  dataset: text(200),
  validationFraction: num(0, 0.5),
  strategy: oneOf(STRATEGIES),
  pick: oneOf(PICK_SIDES),
  budget: oneOf(BUDGET_KINDS),
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
  ...(Object.fromEntries(TRAIN_KEYS.map((key) => [key, TRAIN_FIELDS[key].rule])) as Record<TrainKey, FieldRule>),
};

const KEYS = Object.keys(DEFAULT_SETTINGS) as Key[];

export interface DecodedSettings {
  settings: StudioSettings;
  /** One sentence per field that was skipped, naming it and why. */
  problems: string[];
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
    const parsed = parseField(name, SETTING_RULES[name as Key], raw);
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
