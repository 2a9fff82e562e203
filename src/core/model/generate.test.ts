/**
 * Generation (minGPT-style): greedy with the KV cache equals greedy recomputed from scratch and
 * the float64 reference's argmax, token for token; sampling is seeded; no tensors leak.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { generate } from './generate';
import { disposeWeights, initWeights } from './init';
import { argmax } from './sampling';
import { referenceForward } from './testing/referenceLlama';
import { tinyConfig, toRefWeights } from './testing/tinyModels';
import { defaultLinear } from './llama';
import type { LinearFn, LlamaModel } from './types';

let model: LlamaModel;

beforeAll(async () => {
  await tf.setBackend('cpu');
  const config = tinyConfig({
    modelType: 'qwen2',
    attentionBias: true,
    tieWordEmbeddings: true,
    ropeTheta: 1e6,
    eosTokenIds: [],
  });
  model = { config, weights: initWeights(config, 21, { std: 0.3 }) };
  return () => disposeWeights(model.weights);
});

const prompt = [3, 17, 42, 8, 8, 1];

describe('greedy generation', () => {
  it('with the KV cache equals recomputation from scratch and the float64 reference, token for token', async () => {
    const cached = await generate(model, prompt, { maxNewTokens: 12 });
    const scratch = await generate(model, prompt, { maxNewTokens: 12, useCache: false });
    const ref = toRefWeights(model.weights);
    const V = model.config.vocabSize;
    const seq = [...prompt];
    const refIds: number[] = [];
    for (let i = 0; i < 12; i++) {
      const logits = referenceForward(model.config, ref, [seq]);
      const next = argmax(logits.subarray((seq.length - 1) * V, seq.length * V));
      refIds.push(next);
      seq.push(next);
    }
    console.log(
      `greedy with cache:    ${cached.ids.join(' ')}\ngreedy from scratch:  ${scratch.ids.join(' ')}\nfloat64 reference:    ${refIds.join(' ')}`,
    );
    expect(cached.ids).toEqual(scratch.ids);
    expect(cached.ids).toEqual(refIds);
    expect(cached.stoppedBy).toBe('length');
    expect(new Set(cached.ids).size, 'a degenerate model would repeat one token').toBeGreaterThan(1);
  });

  it('stops after a stop token and includes it', async () => {
    const free = await generate(model, prompt, { maxNewTokens: 12 });
    const stopAt = free.ids[4];
    const first = free.ids.indexOf(stopAt);
    const stopped = await generate(model, prompt, { maxNewTokens: 12, stopTokenIds: [stopAt] });
    expect(stopped).toEqual({ ids: free.ids.slice(0, first + 1), stoppedBy: 'eos' });
  });

  it('sends every linear of every step through the linear override, and reports each token', async () => {
    const calls: string[] = [];
    const seen: number[] = [];
    const linear: LinearFn = (x, w, b, site) => {
      calls.push(`${site.layer}.${site.module}`);
      return defaultLinear(x, w, b, site);
    };
    const out = await generate(model, prompt, { maxNewTokens: 3, linear, onToken: (id) => seen.push(id) });
    expect(seen).toEqual(out.ids);
    // 3 forward passes (prefill + 2 steps), each through 7 modules a layer and lm_head (one call per shard).
    const shards = (model.weights.lmHead ?? model.weights.embedTokens).length;
    const L = model.config.numLayers;
    expect(calls.length).toBe(3 * (L * 7 + shards));
    expect(new Set(calls).size).toBe(L * 7 + 1);
    expect(calls.filter((c) => c === `${L}.lm_head`).length).toBe(3 * shards);
  });

  it('leaves no tensors behind', async () => {
    const before = tf.memory().numTensors;
    await generate(model, prompt, { maxNewTokens: 5, temperature: 0.8, topK: 10, seed: 1 });
    await generate(model, prompt, { maxNewTokens: 5, useCache: false });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses out-of-vocabulary and empty prompts', async () => {
    await expect(generate(model, [1, 50], { maxNewTokens: 2 })).rejects.toThrow(
      /prompt token id 50 is outside the vocabulary \[0, 50\)/,
    );
    await expect(generate(model, [], { maxNewTokens: 2 })).rejects.toThrow(/prompt is empty/);
    await expect(generate(model, [1], { maxNewTokens: 2, topP: 0 })).rejects.toThrow(/top-p must be in/);
  });
});

describe('sampled generation', () => {
  it('is reproducible by seed, varies with the seed, and top-k = 1 is greedy', async () => {
    const opts = { maxNewTokens: 10, temperature: 1.5 };
    const a = await generate(model, prompt, { ...opts, seed: 7 });
    const b = await generate(model, prompt, { ...opts, seed: 7 });
    const others = await Promise.all([8, 9, 10].map((seed) => generate(model, prompt, { ...opts, seed })));
    expect(b.ids).toEqual(a.ids);
    expect(others.some((o) => o.ids.join() !== a.ids.join())).toBe(true);
    const greedy = await generate(model, prompt, { maxNewTokens: 10 });
    const top1 = await generate(model, prompt, { ...opts, topK: 1, seed: 3 });
    expect(top1.ids).toEqual(greedy.ids);
  });
});
