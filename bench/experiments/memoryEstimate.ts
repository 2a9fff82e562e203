/**
 * The Model panel's memory estimate (src/core/train/memoryEstimate.ts) against the measured peak
 * of a training step (src/core/train/memory.ts measurePeakBytes: distinct buffers, on tfjs `cpu`
 * where the count is deterministic and matches WebGPU's buffer sharing), per method, for the
 * embedded model and the real shapes of scripts/realShapes/shapes.ts, with the base weights held
 * as the studio holds them. Prints estimate, measured, ratio; the target is every ratio within
 * 0.85–1.15.
 *   npx tsx bench/experiments/memoryEstimate.ts [embedded|smollm2-135m|qwen2.5-0.5b ...] [s2ft|lora|full ...]
 * The second step of each run is measured (AdamW's m and v exist from the first).
 */
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_MAX_BUFFER_BYTES } from '../../src/core/io/checkpoint';
import { parseConfig } from '../../src/core/model/config';
import { disposeWeights, initWeights } from '../../src/core/model/init';
import type { ModelConfig } from '../../src/core/model/types';
import { DEFAULT_MODULES, unitCounts } from '../../src/core/s2ft/budget';
import { selectUnits } from '../../src/core/s2ft/selection';
import { measurePeakBytes } from '../../src/core/train/memory';
import { trainConfig } from '../../src/core/train/config';
import { estimateTrainingBytes, methodSizes } from '../../src/core/train/memoryEstimate';
import type { MethodName } from '../../src/core/train/method';
import { prepareMethod } from '../../src/core/train/methods';
import { Trainer } from '../../src/core/train/trainer';
import { REAL_SHAPES } from '../../scripts/realShapes/shapes';
import { METHODS, randomFeed } from '../lib/compare';
import { defaultModelConfig } from '../lib/configs';

interface Case {
  name: string;
  config: ModelConfig;
  batchSize: number;
  seqLen: number;
}

const embedded = defaultModelConfig().config;
const CASES: Case[] = [
  { name: 'embedded', config: embedded, batchSize: 8, seqLen: 64 },
  { name: 'embedded', config: embedded, batchSize: 16, seqLen: 128 },
  ...REAL_SHAPES.map((s) => ({ name: s.name, config: parseConfig(s.config), batchSize: 1, seqLen: 16 })),
];
const LORA_RANK = 8;
const wanted = process.argv.slice(2).filter((a) => !(METHODS as readonly string[]).includes(a));
const methods = METHODS.filter((m) => process.argv.slice(2).includes(m));
const MiB = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

/** The studio's default S²FT budget for a model (src/app/requests.ts modelDefaults). */
const budgetOf = (c: ModelConfig) => ({
  kind: 'perLayer' as const,
  heads: Math.max(1, Math.round(c.numHeads / 8)),
  channels: Math.max(1, Math.round(c.intermediateSize / 16)),
});

async function measure(c: Case, method: MethodName): Promise<number> {
  // The embedding (and lm_head) in row shards of the default buffer limit, as the loader cuts them.
  const shardRows = Math.floor(DEFAULT_MAX_BUFFER_BYTES / (4 * c.config.hiddenSize));
  const model = { config: c.config, weights: initWeights(c.config, 0, { shardRows }) };
  const selection =
    method === 's2ft' ? (await selectUnits(model, { budget: budgetOf(c.config), seed: 0 })).selection : undefined;
  const prepared = prepareMethod(method, model, { selection, lora: { rank: LORA_RANK, seed: 0 } });
  const trainer = new Trainer(
    prepared,
    c.config,
    randomFeed(c.config.vocabSize, c.batchSize, c.seqLen, 0),
    trainConfig({
      steps: 2,
      lr: 1e-4,
      warmup: 0,
      schedule: 'constant',
      gradClip: 1,
      evalEvery: 0,
      batchSize: c.batchSize,
    }),
    [],
    { profileMemory: 'never' },
  );
  await trainer.step();
  const { peakBytes } = await measurePeakBytes(() => trainer.step());
  trainer.dispose();
  prepared.dispose();
  disposeWeights(model.weights);
  return peakBytes;
}

await tf.setBackend('cpu');
const ratios: number[] = [];
for (const c of CASES.filter((k) => wanted.length === 0 || wanted.includes(k.name))) {
  const counts = unitCounts(c.config, budgetOf(c.config), 'uniform', DEFAULT_MODULES);
  const estimate = estimateTrainingBytes(c.config, {
    batchSize: c.batchSize,
    seqLen: c.seqLen,
    maxBufferBytes: DEFAULT_MAX_BUFFER_BYTES,
    ...methodSizes(c.config, counts, DEFAULT_MODULES, LORA_RANK),
  });
  for (const method of methods.length > 0 ? methods : METHODS) {
    const measured = await measure(c, method);
    const ratio = estimate[method] / measured;
    ratios.push(ratio);
    console.log(
      `${c.name} ${c.batchSize}×${c.seqLen} ${method}: estimate ${MiB(estimate[method])}, measured ${MiB(measured)}, ` +
        `ratio ${ratio.toFixed(3)}${Math.abs(ratio - 1) <= 0.15 ? '' : '  (outside 0.85–1.15)'}`,
    );
  }
}
const worst = ratios.reduce((w, r) => (Math.abs(r - 1) > Math.abs(w - 1) ? r : w), 1);
console.log(`worst ratio ${worst.toFixed(3)} over ${ratios.length} runs`);
