// The fit check before training: a setting that fits says nothing; one over the device budget or
// over one GPU buffer names the problem and offers the largest batch × length that fits, which
// itself fits and is not beaten by doubling its batch.
import { describe, expect, it } from 'vitest';
import type { ModelSummary } from '../workers/api';
import { parseConfig } from '../src/core/model/config';
import { largestActivationBytes } from '../src/core/train/memoryEstimate';
import { QWEN25_05B } from '../scripts/realShapes/shapes';
import { memoryPlan } from '../src/app/memoryPlan';
import { DEFAULT_SETTINGS } from '../src/app/settings';

const config = parseConfig(QWEN25_05B.config);
const summary = (trainingLimitBytes: number, maxBufferBytes = 128 * 2 ** 20) =>
  ({ config, trainingLimitBytes, maxBufferBytes }) as ModelSummary;
const GiB = 2 ** 30;

describe('memoryPlan', () => {
  it('says nothing when the setting fits', () => {
    const plan = memoryPlan(summary(64 * GiB), { ...DEFAULT_SETTINGS, batchSize: 1, seqLen: 64 });
    expect(plan.problem).toBeNull();
    expect(plan.estimate.s2ft).toBeLessThan(plan.estimate.lora);
    expect(plan.estimate.lora).toBeLessThan(plan.estimate.full);
  });

  it('names the budget and offers the largest batch × length within it', () => {
    const settings = { ...DEFAULT_SETTINGS, method: 's2ft' as const, batchSize: 8, seqLen: 64 };
    const plan = memoryPlan(summary(2.5 * GiB), settings);
    expect(plan.problem).toMatch(/S²FT at batch 8 × 64 tokens needs about .* more than the 2\.5 GiB/);
    const { batchSize, seqLen } = plan.suggestion!;
    const fits = (b: number, t: number) =>
      memoryPlan(summary(2.5 * GiB), { ...settings, batchSize: b, seqLen: t }).problem === null;
    expect(fits(batchSize, seqLen)).toBe(true);
    expect(fits(2 * batchSize, seqLen)).toBe(false);
  });

  it('refuses a step whose largest activation exceeds one GPU buffer, even with memory to spare', () => {
    const settings = { ...DEFAULT_SETTINGS, batchSize: 8, seqLen: 256 }; // 2048 tokens × 37 449 logits of a shard
    const plan = memoryPlan(summary(1024 * GiB), settings);
    expect(plan.problem).toMatch(/one GPU buffer holds/);
    const { batchSize, seqLen } = plan.suggestion!;
    expect(largestActivationBytes(config, batchSize, seqLen, 128 * 2 ** 20)).toBeLessThanOrEqual(128 * 2 ** 20);
  });
});
