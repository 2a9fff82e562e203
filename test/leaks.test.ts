// No leaks: a 500-step run of each method (S²FT, LoRA, full FT, through prepareMethod and the
// Trainer, with gradient clipping, warm-up and periodic evaluation) keeps tf.memory()'s tensor
// count and bytes exactly flat after warm-up, and 200 generation calls leave no tensor behind.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../src/core/model/generate';
import { disposeWeights, initWeights } from '../src/core/model/init';
import { tinyConfig } from '../src/core/model/testing/tinyModels';
import type { LlamaWeights } from '../src/core/model/types';
import type { Batch } from '../src/core/train/batch';
import { nextTokenLabels } from '../src/core/train/loss';
import { trainConfig } from '../src/core/train/config';
import type { MethodName } from '../src/core/train/method';
import { prepareMethod } from '../src/core/train/methods';
import { Trainer, type BatchFeed } from '../src/core/train/trainer';

const config = tinyConfig({
  vocabSize: 50,
  hiddenSize: 16,
  intermediateSize: 24,
  numLayers: 1,
  numHeads: 2,
  numKvHeads: 1,
  headDim: 8,
});
const STEPS = 500;
const WARM_UP = 50;
let base: LlamaWeights;

beforeAll(async () => {
  await tf.setBackend('cpu');
  base = initWeights(config, 5);
});
afterAll(() => disposeWeights(base));

/** A batch of B rows of a learnable pattern, T tokens each. */
function batch(start: number, B = 1, T = 6): Batch {
  const inputIds = new Int32Array(B * T);
  const labels = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const row = Array.from({ length: T + 1 }, (_, t) => (start + 7 * b + 3 * t) % config.vocabSize);
    inputIds.set(row.slice(0, T), b * T);
    labels.set(nextTokenLabels(row).slice(0, T), b * T);
  }
  return { batchSize: B, seqLen: T, inputIds, labels };
}

const feed = (): BatchFeed => {
  let i = 0;
  return { next: () => batch(i++ % 5) };
};

const methodConfig = {
  selection: { layers: [{ heads: [1], channels: [0, 5], vHeads: [0], upChannels: [3] }] },
  lora: { rank: 2, seed: 1 },
};

describe('no tensor leaks', () => {
  it.each<MethodName>(['s2ft', 'lora', 'full'])(
    '%s: 500 training steps keep tensor count and bytes flat after warm-up',
    async (name) => {
      const before = tf.memory();
      const prepared = prepareMethod(name, { config, weights: base }, methodConfig);
      const trainer = new Trainer(
        prepared,
        config,
        feed(),
        trainConfig({
          steps: STEPS,
          lr: 1e-3,
          warmup: 10,
          schedule: 'cosine',
          gradClip: 0.5,
          evalEvery: 100,
          weightDecay: 0.01,
        }),
        [batch(11), batch(13)],
      );
      const samples: { step: number; numTensors: number; numBytes: number }[] = [];
      const result = await trainer.run({
        onStep: (m) => {
          if (m.step >= WARM_UP)
            samples.push({ step: m.step, numTensors: tf.memory().numTensors, numBytes: tf.memory().numBytes });
        },
      });
      expect(result.steps).toBe(STEPS);
      expect(result.evals).toHaveLength(STEPS / 100);
      const first = samples[0];
      const last = samples[samples.length - 1];
      const drift = samples.filter((s) => s.numTensors !== first.numTensors || s.numBytes !== first.numBytes);
      const losses = result.history.map((h) => h.loss);
      console.log(
        `${name}: step ${first.step} ${first.numTensors} tensors / ${first.numBytes} bytes, ` +
          `step ${last.step} ${last.numTensors} tensors / ${last.numBytes} bytes; steps that differ: ${drift.length}; ` +
          `loss ${losses[0].toFixed(3)} → ${losses[losses.length - 1].toFixed(3)}`,
      );
      expect([first.step, last.step]).toEqual([WARM_UP, STEPS]);
      expect(drift).toEqual([]);
      // Disposing the run gives back everything it made.
      trainer.dispose();
      prepared.dispose();
      const after = tf.memory();
      console.log(
        `${name}: before the run ${before.numTensors} tensors / ${before.numBytes} bytes, after disposing ${after.numTensors} / ${after.numBytes}`,
      );
      expect([after.numTensors, after.numBytes]).toEqual([before.numTensors, before.numBytes]);
    },
  );

  it('200 generation calls leave no tensors (cached and uncached, greedy and sampled, with an adapter linear)', async () => {
    const lora = prepareMethod('lora', { config, weights: base }, methodConfig);
    const model = { config, weights: base };
    await generate(model, [1, 2, 3], { maxNewTokens: 2 }); // warm-up
    const before = tf.memory();
    let tokens = 0;
    for (let i = 0; i < 200; i++) {
      const out = await generate(model, [1 + (i % 7), 2, 3], {
        maxNewTokens: 1 + (i % 6),
        temperature: i % 2 === 0 ? 0 : 0.8,
        topK: i % 3 === 0 ? 5 : undefined,
        topP: i % 5 === 0 ? 0.9 : undefined,
        seed: i,
        useCache: i % 4 !== 0,
        stopTokenIds: [],
        linear: i % 3 === 1 ? lora.linear : undefined,
      });
      tokens += out.ids.length;
    }
    const after = tf.memory();
    console.log(
      `generate ×200 (${tokens} tokens): before ${before.numTensors} tensors / ${before.numBytes} bytes, ` +
        `after ${after.numTensors} / ${after.numBytes}`,
    );
    expect([after.numTensors, after.numBytes]).toEqual([before.numTensors, before.numBytes]);
    lora.dispose();
  });
});
