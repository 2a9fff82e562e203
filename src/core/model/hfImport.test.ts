/**
 * minGPT's HF-import test, on a tiny checkpoint written by the project's own writer: the loaded
 * model's logits match the float64 reference run on the original weights, through sharded files
 * (model.safetensors.index.json) and a vocabulary split into GPU-buffer-sized row shards; greedy
 * generation from the loaded model matches the reference token for token.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { memorySource } from '../io/fileSource';
import { loadCheckpoint, writeCheckpoint } from '../io/checkpoint';
import { generate } from './generate';
import { disposeWeights, initWeights } from './init';
import { forward } from './llama';
import { argmax } from './sampling';
import { referenceForward } from './testing/referenceLlama';
import { randomIds, tinyConfig, toRefWeights } from './testing/tinyModels';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const scaling = {
  type: 'llama3' as const,
  factor: 8,
  lowFreqFactor: 1,
  highFreqFactor: 4,
  originalMaxPositionEmbeddings: 512,
};

describe('HF checkpoint import', () => {
  it.each([
    ['llama3-style: GQA, llama3 rope scaling, untied lm_head', tinyConfig({ ropeTheta: 500000, ropeScaling: scaling })],
    [
      'qwen2-style: q/k/v bias, tied embeddings, rope_theta 1e6',
      tinyConfig({ modelType: 'qwen2', attentionBias: true, tieWordEmbeddings: true, ropeTheta: 1e6 }),
    ],
  ])('%s', async (_name, config) => {
    const original = initWeights(config, 17, { std: 0.3 });
    const files = await writeCheckpoint(config, original, { maxShardBytes: 20_000 });
    expect(files.has('model.safetensors.index.json')).toBe(true);
    // A buffer as large as the largest linear (48 × 32 floats) holds 48 embedding rows: 2 shards.
    const loaded = await loadCheckpoint(memorySource('tiny', files), { maxBufferBytes: 48 * 32 * 4 });
    expect(loaded.weights.embedTokens.map((s) => s.shape[0])).toEqual([48, 2]);
    const model = { config: loaded.config, weights: loaded.weights };
    expect(loaded.config).toEqual(config);

    const ref = toRefWeights(original);
    const ids = randomIds(2, 8, config.vocabSize, 5);
    const logits = forward(model, tf.tensor2d(ids, undefined, 'int32'));
    const expected = referenceForward(config, ref, ids);
    const got = logits.dataSync();
    let diff = 0;
    for (let i = 0; i < got.length; i++) diff = Math.max(diff, Math.abs(got[i] - expected[i]));
    console.log(
      `[${_name}] loaded-checkpoint logits max abs diff vs float64 reference = ${diff.toExponential(2)} (tol 1e-4)`,
    );
    expect(diff).toBeLessThanOrEqual(1e-4);
    logits.dispose();

    const prompt = ids[0].slice(0, 5);
    const greedy = await generate(model, prompt, { maxNewTokens: 10, stopTokenIds: [] });
    const seq = [...prompt];
    for (let i = 0; i < 10; i++) {
      const l = referenceForward(config, ref, [seq]);
      seq.push(argmax(l.subarray((seq.length - 1) * config.vocabSize, seq.length * config.vocabSize)));
    }
    expect(greedy.ids).toEqual(seq.slice(prompt.length));
    disposeWeights(original);
    disposeWeights(loaded.weights);
  });
});
