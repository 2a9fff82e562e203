/**
 * Checkpoints in the real shapes of SmolLM2-135M, Qwen2.5-0.5B and Gemma-3-270M (random BF16 weights, a
 * synthetic tokenizer of the full vocabulary, scripts/realShapes/; written into test-checkpoints/
 * when absent) load through the checkpoint loader with WebGPU's default limits, and one S²FT step
 * trains on them, at batch 1 × 8 on the tfjs wasm backend (the fastest in Node). Every buffer that
 * loading and the step create stays within the 128 MiB a storage binding may hold: the embedding
 * (and its tied lm_head) is split into row shards and the loss reads the logits shard by shard
 * (train/loss.ts crossEntropyShards; its equality with the unsplit loss is in lossShards.test.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_BUFFER_BYTES, WEBGPU_DEFAULT_LIMITS, loadCheckpoint } from '../src/core/io/checkpoint';
import { nodeDirectorySource } from '../src/core/io/nodeFiles';
import { disposeWeights } from '../src/core/model/init';
import { loadTokenizer } from '../src/core/model/tokenizer';
import { selectUnits } from '../src/core/s2ft/selection';
import { nextTokenLabels } from '../src/core/train/loss';
import { measurePeakBytes } from '../src/core/train/memory';
import { trainConfig } from '../src/core/train/config';
import { prepareS2ft } from '../src/core/train/s2ft';
import { Trainer } from '../src/core/train/trainer';
import { initNodeBackend } from '../src/cli/lib/backend';
import { CHECKPOINTS_DIR, REAL_SHAPES } from '../scripts/realShapes/shapes';
import { writeRealShape } from '../scripts/realShapes/write';

const MiB = 2 ** 20;
const T = 8;

beforeAll(async () => {
  await initNodeBackend();
});

describe.each(REAL_SHAPES.map((s) => [s.name, s] as const))('%s', (name, shape) => {
  it('loads within the default WebGPU limits and trains one S²FT step', { timeout: 900_000 }, async () => {
    const dir = join(CHECKPOINTS_DIR, name);
    if (!existsSync(join(dir, 'config.json'))) await writeRealShape(shape, dir);
    expect(DEFAULT_MAX_BUFFER_BYTES).toBe(WEBGPU_DEFAULT_LIMITS.maxStorageBufferBindingSize);
    const source = await nodeDirectorySource(dir);

    const measured = await measurePeakBytes(async () => {
      const loaded = await loadCheckpoint(source); // default limit: 128 MiB per tensor
      const { config, weights } = loaded;
      const tokenizer = loadTokenizer(loaded.tokenizerJson!, loaded.tokenizerConfig);
      expect(tokenizer.vocabSize).toBe(config.vocabSize);
      const ids = Int32Array.from(tokenizer.encode('call me ishmael. some years ago, never mind how long').slice(0, T));
      expect(ids.length).toBe(T);

      const model = { config, weights };
      const { selection } = await selectUnits(model, { budget: { kind: 'perLayer', heads: 1, channels: 16 }, seed: 0 });
      const prepared = prepareS2ft(model, selection);
      const before = await Promise.all(prepared.trainable.map((v) => v.data()));
      const batch = { batchSize: 1, seqLen: T, inputIds: ids, labels: nextTokenLabels(ids) };
      const trainer = new Trainer(
        prepared,
        config,
        { next: () => batch },
        trainConfig({ steps: 1, lr: 1e-3, warmup: 0, schedule: 'constant', gradClip: 0, evalEvery: 0, batchSize: 1 }),
        [],
        { profileMemory: 'never' },
      );
      const step = await trainer.step();
      const after = await Promise.all(prepared.trainable.map((v) => v.data()));
      const changed = after.filter((a, i) => a.some((x, j) => x !== before[i][j])).length;
      const shards = weights.embedTokens.length;
      trainer.dispose();
      prepared.dispose();
      disposeWeights(weights);
      return { step, changed, total: after.length, shards, vocab: config.vocabSize, hidden: config.hiddenSize };
    });

    const { step, changed, total, shards, vocab, hidden } = measured.value;
    const largest = measured.largestBuffer!;
    console.log(
      `${name}: embedding in ${shards} shard(s); largest buffer [${largest.shape.join(', ')}] ` +
        `${(largest.bytes / MiB).toFixed(1)} MiB (limit ${DEFAULT_MAX_BUFFER_BYTES / MiB} MiB); ` +
        `step loss ${step.loss.toFixed(4)} (ln V = ${Math.log(vocab).toFixed(4)}), gradient norm ` +
        `${step.gradNorm.toExponential(3)}, ${changed}/${total} trainable tensors changed; ` +
        `peak ${(measured.peakBytes / MiB).toFixed(0)} MiB`,
    );
    expect(largest.bytes).toBeLessThanOrEqual(DEFAULT_MAX_BUFFER_BYTES);
    expect(shards).toBe(Math.ceil(vocab / Math.floor(DEFAULT_MAX_BUFFER_BYTES / (4 * hidden))));
    // Random weights give near-uniform predictions: logits of standard deviation σ ≈ 1 (tied
    // embedding of std 0.02–0.04 against a normed hidden state of norm √D) put the loss near ln V + σ²/2.
    expect(Math.abs(step.loss - Math.log(vocab))).toBeLessThan(1);
    expect(step.gradNorm).toBeGreaterThan(0);
    expect(changed).toBe(total);
    expect(measured.retainedBytes).toBe(0);
  });
});
