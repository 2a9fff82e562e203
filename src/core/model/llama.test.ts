/**
 * minGPT-style check of the forward pass: logits of llama.ts against the independent float64
 * reference (testing/referenceLlama.ts) on tiny random models covering GQA, tied embeddings,
 * q/k/v biases (qwen2), a non-default rope_theta, llama3 rope scaling and a sharded vocabulary.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { forward } from './llama';
import { disposeWeights, initWeights, type InitOptions } from './init';
import { KVCache } from './kvcache';
import { ropeInvFreq } from './rope';
import { referenceForward, refInvFreq } from './testing/referenceLlama';
import { randomIds, tinyConfig, toRefWeights } from './testing/tinyModels';
import type { ModelConfig } from './types';

const TOL = 1e-4;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const cases: { name: string; config: ModelConfig; init?: InitOptions }[] = [
  { name: 'llama GQA H=4 Hkv=2, separate lm_head', config: tinyConfig() },
  {
    name: 'qwen2: q/k/v bias, tied, rope_theta 1e6',
    config: tinyConfig({
      modelType: 'qwen2',
      attentionBias: true,
      tieWordEmbeddings: true,
      ropeTheta: 1e6,
      numKvHeads: 1,
    }),
  },
  { name: 'llama attention_bias: q/k/v/o biases', config: tinyConfig({ attentionBias: true }) },
  {
    name: 'llama3 rope scaling (all three frequency bands)',
    config: tinyConfig({
      ropeTheta: 500000,
      ropeScaling: {
        type: 'llama3',
        factor: 8,
        lowFreqFactor: 1,
        highFreqFactor: 4,
        originalMaxPositionEmbeddings: 512,
      },
    }),
  },
  {
    name: 'vocab-sharded embedding, tied',
    config: tinyConfig({ tieWordEmbeddings: true, numKvHeads: 4 }),
    init: { shardRows: 17 },
  },
  { name: 'vocab-sharded embedding and lm_head', config: tinyConfig(), init: { shardRows: 20 } },
];

describe('forward matches the float64 reference', () => {
  for (const { name, config, init } of cases) {
    it(name, () => {
      // Larger weights than HF's 0.02 so attention is far from uniform and errors would show.
      const weights = initWeights(config, 3, { std: 0.3, ...init });
      const ids = randomIds(2, 9, config.vocabSize, 11);
      const logits = forward({ config, weights }, tf.tensor2d(ids, undefined, 'int32'));
      expect(logits.shape).toEqual([2, 9, config.vocabSize]);
      const ref = referenceForward(config, toRefWeights(weights), ids);
      const diff = maxAbsDiff(logits.dataSync(), ref);
      console.log(`[${name}] logits max abs diff vs float64 reference = ${diff.toExponential(2)} (tol ${TOL})`);
      expect(diff).toBeLessThanOrEqual(TOL);
      logits.dispose();
      disposeWeights(weights);
    });
  }
});

describe('rotary frequencies', () => {
  it('llama3 scaling matches the reference band by band and changes the mid and low bands', () => {
    const scaling = {
      type: 'llama3' as const,
      factor: 8,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositionEmbeddings: 512,
    };
    const scaled = ropeInvFreq(tinyConfig({ ropeTheta: 500000, ropeScaling: scaling }));
    const plain = ropeInvFreq(tinyConfig({ ropeTheta: 500000 }));
    const ref = refInvFreq(tinyConfig({ ropeTheta: 500000, ropeScaling: scaling }));
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(scaled[i] - ref[i]) / ref[i]);
    console.log(`llama3 inv_freq max rel diff vs float64 reference = ${worst.toExponential(2)} (tol 1e-6)`);
    expect(worst).toBeLessThanOrEqual(1e-6);
    expect(scaled[0]).toBe(plain[0]); // high frequency: kept
    expect(scaled[1]).toBeLessThan(plain[1]); // medium: smoothed
    expect(scaled[1]).toBeGreaterThan(plain[1] / 8);
    expect(scaled[3]).toBeCloseTo(plain[3] / 8, 12); // low frequency: divided by factor
  });
});

describe('KV cache', () => {
  it('prefill + chunks with the cache give the same logits as one full pass', () => {
    const config = tinyConfig({
      ropeScaling: {
        type: 'llama3',
        factor: 8,
        lowFreqFactor: 1,
        highFreqFactor: 4,
        originalMaxPositionEmbeddings: 512,
      },
      ropeTheta: 500000,
    });
    const weights = initWeights(config, 5, { std: 0.3 });
    const model = { config, weights };
    const ids = randomIds(2, 10, config.vocabSize, 7);
    const before = tf.memory().numTensors;
    const allIds = tf.tensor2d(ids, undefined, 'int32');
    const full = forward(model, allIds);
    const cache = new KVCache(config.numLayers);
    const parts: tf.Tensor3D[] = [];
    for (const [a, b] of [
      [0, 4],
      [4, 5],
      [5, 10],
    ]) {
      const chunk = tf.tensor2d(
        ids.map((r) => r.slice(a, b)),
        undefined,
        'int32',
      );
      parts.push(forward(model, chunk, { cache }));
      chunk.dispose();
    }
    expect(cache.length).toBe(10);
    const chunked = tf.concat(parts, 1);
    const diff = maxAbsDiff(chunked.dataSync(), full.dataSync());
    console.log(`cached chunks vs full pass: max abs diff = ${diff.toExponential(2)} (tol ${TOL})`);
    expect(diff).toBeLessThanOrEqual(TOL);
    tf.dispose([...parts, chunked, full, allIds]);
    cache.dispose();
    expect(tf.memory().numTensors, 'tensors left behind by cached forward passes').toBe(before);
    disposeWeights(weights);
  });
});

describe('gradients', () => {
  // loss = Σ logits · probe, differentiated w.r.t. a weight of each kind (through RoPE, softmax, SwiGLU, gather).
  it('d(loss)/d(weights) through the whole model matches float64 finite differences', () => {
    const config = tinyConfig({ attentionBias: true, numLayers: 1 });
    const weights = initWeights(config, 9, { std: 0.3 });
    const ids = randomIds(1, 6, config.vocabSize, 3);
    const probe = Float32Array.from({ length: 6 * config.vocabSize }, (_, i) => Math.sin(i));
    const L = weights.layers[0];
    const targets: [string, tf.Tensor][] = [
      ['q_proj', L.linear.q_proj],
      ['k_proj', L.linear.k_proj],
      ['k bias', L.bias.k_proj as tf.Tensor],
      ['down_proj', L.linear.down_proj],
      ['input_layernorm', L.inputLayernorm],
      ['embed', weights.embedTokens[0]],
    ];
    const grads = tf.grads((...ws: tf.Tensor[]) => {
      // Substitute the differentiated tensors into a copy of the weights.
      const w2 = {
        ...weights,
        embedTokens: [ws[5] as tf.Tensor2D],
        layers: [
          {
            ...L,
            inputLayernorm: ws[4] as tf.Tensor1D,
            linear: {
              ...L.linear,
              q_proj: ws[0] as tf.Tensor2D,
              k_proj: ws[1] as tf.Tensor2D,
              down_proj: ws[3] as tf.Tensor2D,
            },
            bias: { ...L.bias, k_proj: ws[2] as tf.Tensor1D },
          },
        ],
      };
      return forward({ config, weights: w2 }, tf.tensor2d(ids, undefined, 'int32'))
        .mul(tf.tensor(probe, [1, 6, config.vocabSize], 'float32'))
        .sum();
    })(targets.map(([, t]) => t));
    const ref = toRefWeights(weights);
    const refLoss = (r: typeof ref): number => {
      const lg = referenceForward(config, r, ids);
      let s = 0;
      for (let i = 0; i < lg.length; i++) s += lg[i] * probe[i];
      return s;
    };
    const fields: ((r: typeof ref) => Float64Array)[] = [
      (r) => r.layers[0].q,
      (r) => r.layers[0].k,
      (r) => r.layers[0].kb as Float64Array,
      (r) => r.layers[0].down,
      (r) => r.layers[0].inNorm,
      (r) => r.embed,
    ];
    let worst = 0;
    targets.forEach(([name], ti) => {
      const g = grads[ti].dataSync();
      for (const idx of [0, 5, g.length - 1]) {
        const arr = fields[ti](ref);
        const keep = arr[idx];
        const h = 1e-5;
        arr[idx] = keep + h;
        const up = refLoss(ref);
        arr[idx] = keep - h;
        const dn = refLoss(ref);
        arr[idx] = keep;
        const fd = (up - dn) / (2 * h);
        const d = Math.abs(fd - g[idx]) / Math.max(1, Math.abs(fd));
        worst = Math.max(worst, d);
        expect(d, `${name}[${idx}]: tfjs ${g[idx]} vs fd ${fd}`).toBeLessThanOrEqual(1e-3);
      }
    });
    console.log(`gradient vs float64 central differences: max rel diff = ${worst.toExponential(2)} (tol 1e-3)`);
    disposeWeights(weights);
  });
});
