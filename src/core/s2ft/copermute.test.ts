/** The invariant S²FT rests on: co-permuting a coupled structure leaves the model's function unchanged. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../errors';
import { disposeWeights, initWeights, weightTensors } from '../model/init';
import { forward } from '../model/llama';
import { GEMMA3_NEW_LAYOUT, QWEN3_NEW_LAYOUT, randomFamilyModel } from '../model/testing/tinyFamilies';
import { randomIds, tinyConfig } from '../model/testing/tinyModels';
import { applyCoPermutation, coPermutation, invertCoPermutation } from './copermute';
import type { Selection } from './types';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const mha = tinyConfig({ numKvHeads: 4, attentionBias: true }); // H = Hkv = 4, q/k/v biases
const selection: Selection = {
  layers: [
    { heads: [3, 1], channels: [40, 2, 17] },
    { heads: [2], channels: [0, 47] },
  ],
};

describe('co-permutation', () => {
  it('puts the selected units first and its two arrays are inverse', () => {
    const p = coPermutation(mha, selection.layers[0]);
    expect(p.headOrder).toEqual([1, 3, 0, 2]);
    expect(p.headPosition).toEqual([2, 0, 3, 1]);
    expect(p.channelOrder.slice(0, 4)).toEqual([2, 17, 40, 0]);
    p.channelOrder.forEach((c, pos) => expect(p.channelPosition[c]).toBe(pos));
    expect([...p.channelOrder].sort((a, b) => a - b)).toEqual(Array.from({ length: 48 }, (_, i) => i));
  });

  it('the permuted model computes the same logits (MHA); the selected block is contiguous; invert restores exactly', () => {
    const weights = initWeights(mha, 9, { std: 0.2 });
    const ids = tf.tensor2d(randomIds(2, 6, mha.vocabSize, 4), [2, 6], 'int32');
    const permuted = applyCoPermutation(weights, mha, selection);
    const diff = tf.tidy(
      () =>
        tf
          .max(tf.abs(tf.sub(forward({ config: mha, weights }, ids), forward({ config: mha, weights: permuted }, ids))))
          .dataSync()[0],
    );
    const scale = tf.tidy(() => tf.max(tf.abs(forward({ config: mha, weights }, ids))).dataSync()[0]);
    console.log(
      `permuted vs original logits: max abs diff ${diff.toExponential(2)} (logits up to ${scale.toFixed(2)}, tol 1e-5)`,
    );
    expect(diff).toBeLessThanOrEqual(1e-5);
    // Control: permuting the producers (q/k/v, gate/up) without their consumers does change the output.
    const broken = {
      ...permuted,
      layers: permuted.layers.map((l, i) => ({
        ...l,
        linear: { ...l.linear, o_proj: weights.layers[i].linear.o_proj, down_proj: weights.layers[i].linear.down_proj },
      })),
    };
    const brokenDiff = tf.tidy(
      () =>
        tf
          .max(tf.abs(tf.sub(forward({ config: mha, weights }, ids), forward({ config: mha, weights: broken }, ids))))
          .dataSync()[0],
    );
    console.log(`control, consumers left unpermuted: max abs diff ${brokenDiff.toExponential(2)}`);
    expect(brokenDiff).toBeGreaterThan(1e-2);
    // Layer 0: heads 1, 3 now occupy o_proj columns 0..15; channel 40 is down_proj column 2.
    const o = weights.layers[0].linear.o_proj.arraySync(),
      op = permuted.layers[0].linear.o_proj.arraySync();
    for (let r = 0; r < 32; r++)
      for (let d = 0; d < 8; d++) {
        expect(op[r][d]).toBe(o[r][8 + d]);
        expect(op[r][8 + d]).toBe(o[r][24 + d]);
      }
    const dn = weights.layers[0].linear.down_proj.arraySync(),
      dp = permuted.layers[0].linear.down_proj.arraySync();
    for (let r = 0; r < 32; r++) expect(dp[r][2]).toBe(dn[r][40]);
    // The permutation really moved something.
    expect(
      tf.tidy(
        () => tf.max(tf.abs(tf.sub(weights.layers[0].linear.q_proj, permuted.layers[0].linear.q_proj))).dataSync()[0],
      ),
    ).toBeGreaterThan(0);

    const back = invertCoPermutation(permuted, mha, selection);
    const a = weightTensors(weights),
      b = weightTensors(back);
    expect(b.length).toBe(a.length);
    let maxDiff = 0;
    a.forEach((t, i) => {
      const x = t.dataSync(),
        y = b[i].dataSync();
      for (let j = 0; j < x.length; j++) maxDiff = Math.max(maxDiff, Math.abs(x[j] - y[j]));
    });
    console.log(`invert(apply(W)) vs W: max abs diff ${maxDiff} over ${a.length} tensors (must be exactly 0)`);
    expect(maxDiff).toBe(0);
    [weights, permuted, back].forEach(disposeWeights);
    ids.dispose();
    expect(tf.memory().numTensors).toBe(0);
  });

  it.each([
    ['qwen3', QWEN3_NEW_LAYOUT],
    ['gemma3_text', GEMMA3_NEW_LAYOUT],
  ])('%s (per-head q/k norms, shared by all heads) computes the same logits permuted', (family, json) => {
    const model = randomFamilyModel({ ...json, num_key_value_heads: 4 }, 6); // MHA: co-permutable
    const { config, weights } = model;
    const sel: Selection = {
      layers: Array.from({ length: config.numLayers }, (_, l) => selection.layers[l % 2]),
    };
    const ids = tf.tensor2d(randomIds(2, 6, config.vocabSize, 4), [2, 6], 'int32');
    const permuted = applyCoPermutation(weights, config, sel);
    const [diff, scale] = tf.tidy(() => {
      const original = forward(model, ids);
      const moved = forward({ config, weights: permuted }, ids);
      return [tf.max(tf.abs(tf.sub(original, moved))).dataSync()[0], tf.max(tf.abs(original)).dataSync()[0]];
    });
    console.log(
      `${family}: permuted vs original logits max abs diff ${diff.toExponential(2)} (scale ${scale.toFixed(2)}, tol 1e-5)`,
    );
    expect(diff).toBeLessThanOrEqual(1e-5);
    // Control: the producers moved without o_proj does change the output.
    const broken = {
      ...permuted,
      layers: permuted.layers.map((l, i) => ({
        ...l,
        linear: { ...l.linear, o_proj: weights.layers[i].linear.o_proj },
      })),
    };
    const brokenDiff = tf.tidy(
      () => tf.max(tf.abs(tf.sub(forward(model, ids), forward({ config, weights: broken }, ids)))).dataSync()[0],
    );
    expect(brokenDiff).toBeGreaterThan(1e-2);
    disposeWeights(permuted);
    disposeWeights(weights);
    ids.dispose();
  });

  it('refuses grouped-query attention with a clear message', () => {
    const gqa = tinyConfig(); // H 4, Hkv 2
    const weights = initWeights(gqa, 1);
    expect(() => applyCoPermutation(weights, gqa, selection)).toThrow(UserError);
    expect(() => applyCoPermutation(weights, gqa, selection)).toThrow(/4 query heads sharing 2 key\/value heads/);
    disposeWeights(weights);
  });
});
