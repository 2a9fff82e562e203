/**
 * The settings of one fine-tuning run, in one vocabulary for every way a run starts: the studio's
 * settings and link (src/app/settings.ts), the worker's train() request (workers/api.ts), the
 * Trainer, the CLI's `train` flags (src/cli/commands/train.ts) and the recipe's run.json
 * (src/core/recipe/recipe.ts). Each field has one rule (bounds or options), one default and one
 * JSON name; each consumer reads the fields it needs. ARCHITECTURE.md "Training config" shows
 * where each field goes.
 */
import { UserError } from '../errors';
import { int, num, oneOf, parseField, type FieldRule } from '../fieldRules';
import { METHOD_NAMES, type MethodName } from './method';
import {
  ADAMW_DEFAULTS,
  OPTIMIZER_NAMES,
  SGD_DEFAULTS,
  type OptimizerName,
  type OptimizerSettings,
} from './optimizerSettings';
import { SCHEDULE_KINDS, type ScheduleKind } from './schedule';

export interface TrainConfig {
  method: MethodName;
  /** Optimizer updates in the run. */
  steps: number;
  /** Peak learning rate. */
  lr: number;
  /** Warm-up updates (0 = start at the peak). */
  warmup: number;
  schedule: ScheduleKind;
  /** AdamW (β 0.9/0.95, ε 1e-8) or plain SGD (optimizer.ts). */
  optimizer: OptimizerName;
  weightDecay: number;
  /** Clip the global gradient norm to this value; 0 = off. */
  gradClip: number;
  /** Rows per update, over all micro-batches. */
  batchSize: number;
  /** Micro-batches per update; divides batchSize. */
  gradAccum: number;
  /** Tokens per row; 0 = chosen from the data (chooseSeqLen in batches.ts). */
  seqLen: number;
  /** Shuffles the data, initialises LoRA, picks random units. */
  seed: number;
  loraRank: number;
  /** LoRA's scale numerator; 0 = 2 × loraRank. */
  loraAlpha: number;
  loraDropout: number;
  /** Evaluate (validation loss, and the forgetting meter in the studio) every this many updates; 0 = never. */
  evalEvery: number;
  /** Studio: generate from the sample prompts every this many updates (and at step 0); 0 = never. */
  sampleEvery: number;
  /** Studio: new tokens per sample generation. */
  sampleTokens: number;
  /** Studio: save a resumable checkpoint every this many updates; 0 = a quarter of the run, at most 25. */
  checkpointEvery: number;
}

export type TrainKey = keyof TrainConfig;

interface FieldSpec {
  rule: FieldRule;
  /** The value when nobody says otherwise (the CLI's default; the studio overrides a few). */
  default: TrainConfig[TrainKey];
  /** The name in run.json and in an adapter's training record. */
  json: string;
  /** Whether `train` takes it as --kebab-case-name (the studio-only fields are not flags). */
  flag: boolean;
}

const MAX_STEPS = 1_000_000;

/** Every field of TrainConfig: its rule, default, JSON name and whether the CLI has a flag for it. */
export const TRAIN_FIELDS: { readonly [K in TrainKey]: FieldSpec & { default: TrainConfig[K] } } = {
  method: { rule: oneOf(METHOD_NAMES), default: 's2ft', json: 'method', flag: true },
  steps: { rule: int(1, MAX_STEPS), default: 100, json: 'steps', flag: true },
  // Only finite and ≥ 0: a rate too high for the model ends the run with a divergence message.
  lr: { rule: num(0, Number.MAX_VALUE), default: 1e-4, json: 'lr', flag: true },
  warmup: { rule: int(0, MAX_STEPS), default: 0, json: 'warmup', flag: true },
  schedule: { rule: oneOf(SCHEDULE_KINDS), default: 'linear', json: 'schedule', flag: true },
  optimizer: { rule: oneOf(OPTIMIZER_NAMES), default: 'adamw', json: 'optimizer', flag: true },
  weightDecay: { rule: num(0, 10), default: 0, json: 'weight_decay', flag: true },
  gradClip: { rule: num(0, 1e6), default: 1, json: 'grad_clip', flag: true },
  batchSize: { rule: int(1, 1024), default: 8, json: 'batch_size', flag: true },
  gradAccum: { rule: int(1, 1024), default: 1, json: 'grad_accum', flag: true },
  seqLen: { rule: int(0, 8192), default: 0, json: 'seq_len', flag: true },
  seed: { rule: int(0, 2 ** 31 - 1), default: 0, json: 'seed', flag: true },
  loraRank: { rule: int(1, 4096), default: 8, json: 'lora_rank', flag: true },
  loraAlpha: { rule: num(0, 1e6), default: 0, json: 'lora_alpha', flag: true },
  loraDropout: { rule: num(0, 0.99), default: 0, json: 'lora_dropout', flag: true },
  evalEvery: { rule: int(0, MAX_STEPS), default: 0, json: 'eval_every', flag: true },
  sampleEvery: { rule: int(0, MAX_STEPS), default: 0, json: 'sample_every', flag: false },
  sampleTokens: { rule: int(1, 512), default: 32, json: 'sample_tokens', flag: false },
  checkpointEvery: { rule: int(0, MAX_STEPS), default: 0, json: 'checkpoint_every', flag: false },
};

export const TRAIN_KEYS = Object.keys(TRAIN_FIELDS) as TrainKey[];

export const DEFAULT_TRAIN_CONFIG: TrainConfig = Object.fromEntries(
  TRAIN_KEYS.map((key) => [key, TRAIN_FIELDS[key].default]),
) as unknown as TrainConfig;

/** One sentence per field that breaks its rule, plus the rules between fields; [] when the config is valid. */
export function trainConfigProblems(config: TrainConfig): string[] {
  const problems: string[] = [];
  for (const key of TRAIN_KEYS) {
    const parsed = parseField(key, TRAIN_FIELDS[key].rule, config[key]);
    if (!parsed.ok) problems.push(parsed.reason);
  }
  if (problems.length === 0 && config.batchSize % config.gradAccum !== 0)
    problems.push(`batchSize ${config.batchSize} must be a multiple of gradAccum ${config.gradAccum}`);
  return problems;
}

/** Throws one UserError naming every problem of the config. */
export function checkTrainConfig(config: TrainConfig): TrainConfig {
  const problems = trainConfigProblems(config);
  if (problems.length > 0) throw new UserError('bad-argument', `training settings: ${problems.join('; ')}`);
  return config;
}

/** The defaults with `change` applied, checked. */
export function trainConfig(change: Partial<TrainConfig> = {}): TrainConfig {
  return checkTrainConfig({ ...DEFAULT_TRAIN_CONFIG, ...change });
}

/** The training fields of a larger record (the studio's settings, a worker request). */
export function pickTrainConfig(record: TrainConfig): TrainConfig {
  return Object.fromEntries(TRAIN_KEYS.map((key) => [key, record[key]])) as unknown as TrainConfig;
}

/** The optimizer and its fixed hyperparameters (optimizer.ts), with the config's weight decay. */
export function optimizerSettings(config: TrainConfig): OptimizerSettings {
  const defaults = config.optimizer === 'sgd' ? SGD_DEFAULTS : ADAMW_DEFAULTS;
  return { ...defaults, weightDecay: config.weightDecay };
}

/** LoRA's alpha, 2 × rank unless given. */
export function loraAlpha(config: TrainConfig): number {
  return config.loraAlpha > 0 ? config.loraAlpha : 2 * config.loraRank;
}

/** Updates between checkpoints: the given interval, else a quarter of the run, at most 25 (at least 1). */
export function checkpointInterval(config: TrainConfig): number {
  return config.checkpointEvery > 0 ? config.checkpointEvery : Math.max(1, Math.min(25, Math.floor(config.steps / 4)));
}

/**
 * The config as JSON (run.json's `training`, an adapter's training record): snake_case names,
 * the optimizer written out with its hyperparameters so the PyTorch recipe builds the same one.
 */
export function trainConfigToJson(config: TrainConfig): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  for (const key of TRAIN_KEYS) json[TRAIN_FIELDS[key].json] = config[key];
  json.optimizer = optimizerSettings(config);
  delete json.weight_decay; // it is part of the optimizer object
  return json;
}

/** The config from its JSON form; missing fields take their defaults, a bad one is an error naming it. */
export function trainConfigFromJson(json: Record<string, unknown>, source: string): TrainConfig {
  const config: Record<string, unknown> = { ...DEFAULT_TRAIN_CONFIG };
  const optimizer = json.optimizer as Partial<OptimizerSettings> | undefined;
  const flat: Record<string, unknown> = {
    ...json,
    optimizer: optimizer?.kind,
    weight_decay: optimizer?.weightDecay,
  };
  for (const key of TRAIN_KEYS) {
    const raw = flat[TRAIN_FIELDS[key].json];
    if (raw === undefined) continue;
    const parsed = parseField(TRAIN_FIELDS[key].json, TRAIN_FIELDS[key].rule, raw);
    if (!parsed.ok) throw new UserError('bad-argument', `${source}: ${parsed.reason}`);
    config[key] = parsed.value;
  }
  return checkTrainConfig(config as unknown as TrainConfig);
}

/** A run's warm-up kept below its step count, so a shortened run still reaches its peak rate. */
export function warmupBelowSteps(config: TrainConfig): TrainConfig {
  return { ...config, warmup: Math.min(config.warmup, config.steps - 1) };
}
