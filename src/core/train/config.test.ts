import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkpointInterval,
  DEFAULT_TRAIN_CONFIG,
  loraAlpha,
  TRAIN_FIELDS,
  TRAIN_KEYS,
  trainConfig,
  trainConfigFromJson,
  trainConfigProblems,
  trainConfigToJson,
  warmupBelowSteps,
  type TrainConfig,
} from './config';

/** Any valid config, field by field from the core's rules (batchSize a multiple of gradAccum). */
const anyTrainConfig: fc.Arbitrary<TrainConfig> = fc
  .record(
    Object.fromEntries(
      TRAIN_KEYS.map((key) => {
        const { rule } = TRAIN_FIELDS[key];
        switch (rule.kind) {
          case 'enum':
            return [key, fc.constantFrom(...rule.values)];
          case 'int':
            return [key, fc.integer({ min: rule.min, max: rule.max })];
          case 'number':
            return [key, fc.double({ min: rule.min, max: rule.max, noNaN: true, noDefaultInfinity: true })];
          default:
            throw new Error(`no generator for ${rule.kind}`);
        }
      }),
    ) as { [K in keyof TrainConfig]: fc.Arbitrary<TrainConfig[K]> },
  )
  .map((c) => ({ ...c, batchSize: c.gradAccum * Math.max(1, Math.floor(c.batchSize / c.gradAccum)) }));

describe('training config', () => {
  it('has valid defaults and refuses each field outside its rule, naming it', () => {
    expect(trainConfigProblems(DEFAULT_TRAIN_CONFIG)).toEqual([]);
    expect(trainConfigProblems({ ...DEFAULT_TRAIN_CONFIG, steps: 0 })).toEqual([
      'steps must be from 1 to 1000000, got 0',
    ]);
    expect(trainConfigProblems({ ...DEFAULT_TRAIN_CONFIG, method: 'magic' as never, warmup: 1.5 })).toEqual([
      'method must be one of s2ft, lora, full, got "magic"',
      'warmup must be a whole number, got 1.5',
    ]);
    expect(trainConfigProblems({ ...DEFAULT_TRAIN_CONFIG, lr: Infinity })).toEqual(['lr must be a number, got null']);
    expect(() => trainConfig({ batchSize: 6, gradAccum: 4 })).toThrow(
      'training settings: batchSize 6 must be a multiple of gradAccum 4',
    );
  });

  it('round-trips any valid config through its JSON form (run.json, adapter metadata)', () => {
    fc.assert(
      fc.property(anyTrainConfig, (config) => {
        const json = JSON.parse(JSON.stringify(trainConfigToJson(config))) as Record<string, unknown>;
        expect(trainConfigFromJson(json, 'run.json')).toEqual(config);
      }),
      { numRuns: 300 },
    );
  });

  it('writes the optimizer with its hyperparameters and reads a bad field as an error naming it', () => {
    const json = trainConfigToJson(trainConfig({ optimizer: 'sgd', weightDecay: 0.1, gradAccum: 2 }));
    expect(json).toMatchObject({ optimizer: { kind: 'sgd', momentum: 0, weightDecay: 0.1 }, grad_accum: 2 });
    expect(json).not.toHaveProperty('weight_decay');
    expect(() => trainConfigFromJson({ ...json, grad_clip: -1 }, 'run.json')).toThrow(
      'run.json: grad_clip must be from 0 to 1000000, got -1',
    );
  });

  it('derives LoRA alpha, checkpoint interval and a warm-up below the steps', () => {
    expect(loraAlpha(trainConfig({ loraRank: 4 }))).toBe(8);
    expect(loraAlpha(trainConfig({ loraRank: 4, loraAlpha: 3 }))).toBe(3);
    expect(checkpointInterval(trainConfig({ steps: 24 }))).toBe(6);
    expect(checkpointInterval(trainConfig({ steps: 1000 }))).toBe(25);
    expect(checkpointInterval(trainConfig({ steps: 2 }))).toBe(1);
    expect(checkpointInterval(trainConfig({ steps: 24, checkpointEvery: 5 }))).toBe(5);
    expect(warmupBelowSteps(trainConfig({ steps: 5, warmup: 10 })).warmup).toBe(4);
    expect(warmupBelowSteps(trainConfig({ steps: 50, warmup: 10 })).warmup).toBe(10);
  });
});
