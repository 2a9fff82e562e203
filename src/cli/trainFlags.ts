/**
 * The training config (src/core/train/config.ts) from `train` / `export-recipe` flags: every field
 * the core marks as a flag is read as --kebab-case-name with the core's default and bounds, so
 * the flags, their defaults and their checks are the core's table, not a copy of it.
 */
import { checkTrainConfig, TRAIN_FIELDS, TRAIN_KEYS, type TrainConfig } from '../core/train/config';
import type { Flags } from './args';
import { choice } from './selectionFlags';

/** "gradAccum" → "grad-accum". */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

export function trainConfigFromFlags(flags: Flags): TrainConfig {
  const config: Record<string, unknown> = {};
  for (const key of TRAIN_KEYS) {
    const field = TRAIN_FIELDS[key];
    const name = flagName(key);
    const { rule } = field;
    if (!field.flag) config[key] = field.default;
    else if (rule.kind === 'enum') config[key] = choice(flags, name, rule.values, field.default as string);
    else if (rule.kind === 'int' || rule.kind === 'number') {
      // lr has no useful upper bound to print (config.ts says why).
      const max = rule.max === Number.MAX_VALUE ? undefined : rule.max;
      config[key] = flags.number(name, field.default as number, { min: rule.min, max, integer: rule.kind === 'int' });
    } else throw new Error(`training field ${key} has no flag reader for ${rule.kind}`);
  }
  return checkTrainConfig(config as unknown as TrainConfig);
}
