import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposeWeights, initWeights } from '../model/init';
import { forward } from '../model/llama';
import { randomIds, tinyConfig } from '../model/testing/tinyModels';
import { MODULE_NAMES, type LlamaWeights } from '../model/types';
import { fuseAdapters, multiAdapterLinear, releaseReplacedWeights, switchAdapter, unfuseAdapter } from './fuse';
import { randomAdapter } from './testing/randomAdapter';
import type { AdapterBlock } from './types';

const config = tinyConfig({ attentionBias: true }); // GQA: 4 heads on 2 kv heads
const selA = {
  layers: [
    { heads: [1, 3], channels: [0, 5, 17], vHeads: [1], upChannels: [2, 40] },
    { heads: [0], channels: [47] },
  ],
};
const selB = {
  layers: [
    { heads: [3], channels: [5, 6] },
    { heads: [2, 0], channels: [1, 47], upChannels: [7] },
  ],
}; // overlaps A
const adA = randomAdapter(config, selA, 3);
const adB = randomAdapter(config, selB, 4);
let base: LlamaWeights;

beforeAll(async () => {
  await tf.setBackend('cpu');
  base = initWeights(config, 1);
});
afterAll(() => disposeWeights(base));

/** Max |a − b| over every linear weight of two weight sets. */
function maxLinearDiff(a: LlamaWeights, b: LlamaWeights): number {
  let m = 0;
  a.layers.forEach((layer, i) => {
    for (const mod of MODULE_NAMES)
      m = Math.max(
        m,
        tf.tidy(() => tf.abs(tf.sub(layer.linear[mod], b.layers[i].linear[mod])).max().dataSync()[0]),
      );
  });
  return m;
}

/** W + Σ w·ΔW in float64, written straight from the block definition. */
function manualFuse(
  weights: LlamaWeights,
  parts: { blocks: AdapterBlock[]; weight: number }[],
  layer: number,
  module: 'o_proj' | 'down_proj' | 'v_proj' | 'up_proj',
): Float64Array {
  const W = weights.layers[layer].linear[module];
  const [, inDim] = W.shape;
  const out = Float64Array.from(W.dataSync());
  for (const { blocks, weight } of parts) {
    for (const b of blocks.filter((x) => x.layer === layer && x.module === module)) {
      const [rows, cols] = b.shape;
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < cols; c++) {
          const at = b.axis === 'columns' ? r * inDim + b.indices[c] : b.indices[r] * inDim + c;
          out[at] += weight * b.delta[r * cols + c];
        }
    }
  }
  return out;
}

describe('fuse, unfuse, switch', () => {
  it('fuse then unfuse restores the base', () => {
    const before = tf.memory().numTensors;
    const baseO = base.layers[0].linear.o_proj.dataSync().slice();
    const fused = fuseAdapters(base, [{ adapter: adA, weight: 1 }]);
    expect(maxLinearDiff(fused, base)).toBeGreaterThan(1e-3); // the adapter did change something
    const restored = unfuseAdapter(fused, adA);
    const diff = maxLinearDiff(restored, base);
    console.log(`fuse → unfuse vs base: max diff ${diff.toExponential(3)} (tolerance 1e-6)`);
    expect(diff).toBeLessThanOrEqual(1e-6);
    // Untouched tensors are shared, touched ones are new; releasing frees exactly the replaced ones.
    expect(fused.layers[0].linear.q_proj).toBe(base.layers[0].linear.q_proj);
    expect(fused.layers[0].linear.o_proj).not.toBe(base.layers[0].linear.o_proj);
    expect(fused.layers[1].linear.v_proj).toBe(base.layers[1].linear.v_proj); // no v rows in layer 1
    releaseReplacedWeights(fused, restored);
    releaseReplacedWeights(restored, base);
    expect(tf.memory().numTensors).toBe(before);
    expect(base.layers[0].linear.o_proj.isDisposed).toBe(false);
    // The input was never written to (fuse writes into a copy of W, never into W's own memory).
    expect(Array.from(base.layers[0].linear.o_proj.dataSync())).toEqual(Array.from(baseO));
  });

  it('fusing two weighted adapters equals the manual weighted sum', () => {
    const w = [0.7, -0.3];
    const fused = fuseAdapters(base, [
      { adapter: adA, weight: w[0] },
      { adapter: adB, weight: w[1] },
    ]);
    let diff = 0;
    for (let layer = 0; layer < config.numLayers; layer++) {
      for (const mod of ['o_proj', 'down_proj', 'v_proj', 'up_proj'] as const) {
        const expected = manualFuse(
          base,
          [
            { blocks: adA.blocks, weight: w[0] },
            { blocks: adB.blocks, weight: w[1] },
          ],
          layer,
          mod,
        );
        const got = fused.layers[layer].linear[mod].dataSync();
        for (let i = 0; i < expected.length; i++) diff = Math.max(diff, Math.abs(got[i] - expected[i]));
      }
    }
    console.log(`fuse(0.7·A − 0.3·B) vs float64 manual sum: max diff ${diff.toExponential(3)} (tolerance 1e-6)`);
    expect(diff).toBeLessThanOrEqual(1e-6);
    releaseReplacedWeights(fused, base);
  });

  it('switch equals unfuse then fuse', () => {
    const onA = fuseAdapters(base, [{ adapter: adA, weight: 1 }]);
    const switched = switchAdapter(onA, adA, adB);
    const offA = unfuseAdapter(onA, adA);
    const onB = fuseAdapters(offA, [{ adapter: adB, weight: 1 }]);
    const diff = maxLinearDiff(switched, onB);
    const direct = fuseAdapters(base, [{ adapter: adB, weight: 1 }]);
    const diffDirect = maxLinearDiff(switched, direct);
    console.log(
      `switch(A→B) vs unfuse(A)+fuse(B): max diff ${diff.toExponential(3)}; vs base+B: ${diffDirect.toExponential(3)} (tolerance 1e-6)`,
    );
    expect(diff).toBeLessThanOrEqual(1e-6);
    expect(diffDirect).toBeLessThanOrEqual(1e-6);
    for (const w of [switched, onB, direct, offA, onA]) releaseReplacedWeights(w, base);
  });

  it('parallel serving of n adapters equals running each fused model', () => {
    const adapters = [adA, adB];
    const requestAdapter = [1, -1, 0, 1];
    const B = requestAdapter.length,
      T = 5;
    const ids = tf.tensor2d(randomIds(B, T, config.vocabSize, 9), [B, T], 'int32');
    const serving = multiAdapterLinear(adapters, requestAdapter);
    const parallel = forward({ config, weights: base }, ids, { linear: serving.linear }); // [B, T, V]
    let diff = 0;
    for (let b = 0; b < B; b++) {
      const which = requestAdapter[b];
      const weights = which < 0 ? base : fuseAdapters(base, [{ adapter: adapters[which], weight: 1 }]);
      const row = tf.tidy(() => {
        const single = forward({ config, weights }, ids.slice([b, 0], [1, T]) as tf.Tensor2D); // [1, T, V]
        return tf
          .abs(tf.sub(single, parallel.slice([b, 0, 0], [1, T, config.vocabSize])))
          .max()
          .dataSync()[0];
      });
      diff = Math.max(diff, row);
      if (weights !== base) releaseReplacedWeights(weights, base);
    }
    // Sanity: the adapters make a visible difference to the logits.
    const plain = forward({ config, weights: base }, ids);
    const effect = tf.tidy(() => tf.abs(tf.sub(plain, parallel)).max().dataSync()[0]);
    console.log(
      `parallel serving (adapters per request ${requestAdapter}) vs fused per adapter: max logit diff ${diff.toExponential(3)} (tolerance 1e-5); adapter effect ${effect.toExponential(3)}`,
    );
    expect(diff).toBeLessThanOrEqual(1e-5);
    expect(effect).toBeGreaterThan(1e-3);
    tf.dispose([ids, parallel, plain]);
    serving.dispose();
  });
});
