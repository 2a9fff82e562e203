/**
 * qwen3 and gemma3_text computed as transformers does: logits against the independent float64
 * reference (testing/referenceLlama.ts) on seeded random models with every distinguishing
 * feature on (testing/tinyFamilies.ts), greedy generation with the KV cache against the
 * reference's argmax, and S²FT's partial-backprop gradients against plain autodiff and against
 * float64 central differences of the reference's loss (which checks every custom op's backward:
 * q/k norms, (1 + w) sandwich norms, tanh GELU, both soft-caps, the sliding mask).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareS2ft } from '../train/s2ft';
import { crossEntropy } from '../train/loss';
import type { Selection } from '../s2ft/types';
import { generate } from './generate';
import { disposeWeights } from './init';
import { defaultLinear, forward } from './llama';
import { referenceForward, type RefWeights } from './testing/referenceLlama';
import { FAMILY_CASES, randomFamilyModel } from './testing/tinyFamilies';
import { randomIds, toRefWeights } from './testing/tinyModels';
import type { LlamaModel, LlamaWeights, ModelConfig, ModuleName } from './types';

const TOL = 1e-4;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** max |a − b| / max |b| */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let num = 0,
    den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

const argmax = (row: ArrayLike<number>, offset: number, V: number): number => {
  let best = 0;
  for (let v = 1; v < V; v++) if (row[offset + v] > row[offset + best]) best = v;
  return best;
};

describe.each(FAMILY_CASES)('$name', ({ name, json }) => {
  it('logits match the float64 reference (T 8 > the sliding window) and greedy tokens are identical', async () => {
    const model = randomFamilyModel(json, 3);
    const { config } = model;
    const ids = randomIds(2, 8, config.vocabSize, 5);
    const logits = tf.tidy(() => forward(model, tf.tensor2d(ids, [2, 8], 'int32')).dataSync());
    const ref = referenceForward(config, toRefWeights(model.weights), ids);
    const d = relDiff(logits, ref);
    console.log(`[${name}] logits max rel diff vs float64 reference = ${d.toExponential(2)} (tol ${TOL})`);
    expect(d).toBeLessThanOrEqual(TOL);

    // Greedy with the KV cache (positions past the window, each new token one step) vs the reference's argmax.
    const prompt = ids[0].slice(0, 4);
    const got = await generate(model, prompt, { maxNewTokens: 6, stopTokenIds: [] });
    const refWeights = toRefWeights(model.weights);
    const expected: number[] = [];
    const seq = [...prompt];
    for (let i = 0; i < 6; i++) {
      const out = referenceForward(config, refWeights, [seq]);
      const next = argmax(out, (seq.length - 1) * config.vocabSize, config.vocabSize);
      expected.push(next);
      seq.push(next);
    }
    console.log(`[${name}] greedy ${got.ids.join(',')} (reference ${expected.join(',')})`);
    expect(got.ids).toEqual(expected);
    disposeWeights(model.weights);
  });

  it('S²FT block gradients equal plain autodiff and float64 central differences of the reference loss', async () => {
    const model = randomFamilyModel(json, 7);
    const { config } = model;
    const B = 2,
      T = 6;
    const rows = randomIds(B, T + 1, config.vocabSize, 11);
    const inputs = rows.map((r) => r.slice(0, T));
    const targets = rows.map((r) => r.slice(1));
    const ids = tf.tensor2d(inputs, [B, T], 'int32');
    const labels = tf.tensor2d(targets, [B, T], 'int32');
    const selection: Selection = {
      layers:
        config.modelType === 'gemma3_text' && config.numLayers === 3
          ? [
              { heads: [3, 0], channels: [5, 17, 40], vHeads: [1], upChannels: [2, 47] },
              { heads: [2], channels: [0] },
              { heads: [], channels: [] },
            ]
          : [
              { heads: [3, 0], channels: [5, 17, 40], vHeads: [1], upChannels: [2, 47] },
              { heads: [2], channels: [0, 33] },
            ],
    };
    const method = prepareS2ft(model, selection);
    const { grads, value } = tf.variableGrads(
      () => crossEntropy(forward({ config, weights: method.weights }, ids, { linear: method.linear }), labels),
      method.trainable,
    );
    const autodiff = plainGradients(model, ids, labels);
    const refWeights = toRefWeights(model.weights);
    let worstAutodiff = 0;
    let worstFd = 0;
    const blocks = await method.blocks();
    blocks.forEach((b, i) => {
      const g = grads[method.trainable[i].name].dataSync(); // [out, k] or [k, in]
      const full = autodiff.get(`${b.layer}.${b.module}`)!; // [out, in]
      const expected = tf.tidy(() => tf.gather(full, tf.tensor1d(b.indices, 'int32'), b.axis === 'columns' ? 1 : 0));
      worstAutodiff = Math.max(worstAutodiff, relDiff(g, expected.dataSync()));
      expected.dispose();
      // A few entries of the block against (L(W + h) − L(W − h)) / 2h on the float64 reference.
      const [outDim, inDim] = full.shape;
      const k = b.indices.length;
      const got: number[] = [];
      const fd: number[] = [];
      for (let s = 0; s < 4; s++) {
        const j = (s * 7 + i) % k; // the block's j-th column (row)
        const other = (s * 5 + 3) % (b.axis === 'columns' ? outDim : inDim);
        const [row, col] = b.axis === 'columns' ? [other, b.indices[j]] : [b.indices[j], other];
        got.push(b.axis === 'columns' ? g[other * k + j] : g[j * inDim + other]);
        fd.push(centralDifference(config, refWeights, b.layer, b.module, row * inDim + col, inputs, targets));
      }
      worstFd = Math.max(worstFd, relDiff(got, fd));
    });
    console.log(
      `[${name}] S²FT gradients (${blocks.length} blocks): max rel diff vs autodiff ${worstAutodiff.toExponential(2)} (tol ${TOL}), vs float64 central differences ${worstFd.toExponential(2)} (tol 1e-3)`,
    );
    expect(worstAutodiff).toBeLessThanOrEqual(TOL);
    expect(worstFd).toBeLessThanOrEqual(1e-3);
    // The frozen q/k norms and the base weights got no gradient: only the blocks are variables.
    expect(Object.keys(grads).sort()).toEqual(method.trainable.map((v) => v.name).sort());
    tf.dispose([ids, labels, value, ...Object.values(grads), ...autodiff.values()]);
    method.dispose();
    disposeWeights(model.weights);
  });
});

/** Plain autodiff: the trained modules as full-weight variables, default linear.  → key `${layer}.${module}` */
function plainGradients(model: LlamaModel, ids: tf.Tensor2D, labels: tf.Tensor2D): Map<string, tf.Tensor2D> {
  const vars = new Map<string, tf.Variable>();
  const weights: LlamaWeights = {
    ...model.weights,
    layers: model.weights.layers.map((layer, i) => {
      const linear = { ...layer.linear };
      for (const m of ['o_proj', 'down_proj', 'v_proj', 'up_proj'] as ModuleName[]) {
        const v = tf.variable(layer.linear[m], true);
        vars.set(`${i}.${m}`, v);
        linear[m] = v as tf.Tensor2D;
      }
      return { ...layer, linear };
    }),
  };
  const { grads, value } = tf.variableGrads(
    () => crossEntropy(forward({ config: model.config, weights }, ids, { linear: defaultLinear }), labels),
    [...vars.values()],
  );
  value.dispose();
  const out = new Map<string, tf.Tensor2D>();
  for (const [key, v] of vars) {
    out.set(key, grads[v.name] as tf.Tensor2D);
    v.dispose();
  }
  return out;
}

/** Mean next-token cross-entropy of the float64 reference. */
function referenceLoss(config: ModelConfig, w: RefWeights, inputs: number[][], targets: number[][]): number {
  const V = config.vocabSize;
  const logits = referenceForward(config, w, inputs);
  let total = 0;
  let count = 0;
  inputs.forEach((row, b) =>
    row.forEach((_, t) => {
      const off = (b * row.length + t) * V;
      let mx = -Infinity;
      for (let v = 0; v < V; v++) mx = Math.max(mx, logits[off + v]);
      let z = 0;
      for (let v = 0; v < V; v++) z += Math.exp(logits[off + v] - mx);
      total += mx + Math.log(z) - logits[off + targets[b][t]];
      count++;
    }),
  );
  return total / count;
}

const REF_KEY: Record<ModuleName, 'q' | 'k' | 'v' | 'o' | 'gate' | 'up' | 'down'> = {
  q_proj: 'q',
  k_proj: 'k',
  v_proj: 'v',
  o_proj: 'o',
  gate_proj: 'gate',
  up_proj: 'up',
  down_proj: 'down',
};

/** dL/dW[flat] of one weight of the reference by central differences in float64. */
function centralDifference(
  config: ModelConfig,
  w: RefWeights,
  layer: number,
  module: ModuleName,
  flat: number,
  inputs: number[][],
  targets: number[][],
): number {
  const weight = w.layers[layer][REF_KEY[module]];
  const h = 1e-5;
  const saved = weight[flat];
  weight[flat] = saved + h;
  const plus = referenceLoss(config, w, inputs, targets);
  weight[flat] = saved - h;
  const minus = referenceLoss(config, w, inputs, targets);
  weight[flat] = saved;
  return (plus - minus) / (2 * h);
}
