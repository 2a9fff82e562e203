// Switching S²FT adapters in place (servingWeights.ts) on the tfjs cpu backend: every switch
// leaves exactly what the non-mutating fuseAdapters(base, to) makes, and the float64 sum of the
// block definitions; the copies are written in place, the base never; shared data is detected.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../errors';
import { disposeWeights, initWeights } from '../model/init';
import { tinyConfig } from '../model/testing/tinyModels';
import { MODULE_NAMES, type LlamaWeights } from '../model/types';
import { fuseAdapters, releaseReplacedWeights, type WeightedAdapter } from './fuse';
import { ServingWeights } from './servingWeights';
import { randomAdapter } from './testing/randomAdapter';

const config = tinyConfig(); // hidden 32, 4 heads of 8 on 2 kv heads, FFN 48
// A and B share heads and channels; C shares nothing with A and touches modules A does not.
const adA = randomAdapter(
  config,
  {
    layers: [
      { heads: [1, 3], channels: [0, 5, 17], vHeads: [1], upChannels: [2, 40] },
      { heads: [0], channels: [47] },
    ],
  },
  3,
);
const adB = randomAdapter(
  config,
  {
    layers: [
      { heads: [3], channels: [5, 6] },
      { heads: [2, 0], channels: [1, 47], upChannels: [7] },
    ],
  },
  4,
);
const adC = randomAdapter(
  config,
  {
    layers: [
      { heads: [0, 2], channels: [1, 2], upChannels: [3] },
      { heads: [1], channels: [10], vHeads: [0] },
    ],
  },
  5,
);
let base: LlamaWeights;
let baseValues: ArrayLike<number>[];

beforeAll(async () => {
  await tf.setBackend('cpu');
  base = initWeights(config, 1);
  baseValues = base.layers.flatMap((layer) => MODULE_NAMES.map((m) => layer.linear[m].dataSync().slice()));
});
afterAll(() => disposeWeights(base));

/** Max |a − b| over every linear weight (b given as Float64Arrays or as weights). */
function maxDiff(a: LlamaWeights, b: LlamaWeights | ArrayLike<number>[]): number {
  let m = 0;
  a.layers.forEach((layer, i) =>
    MODULE_NAMES.forEach((mod, j) => {
      const x = layer.linear[mod].dataSync();
      const y = Array.isArray(b)
        ? b[i * MODULE_NAMES.length + j]
        : (b as LlamaWeights).layers[i].linear[mod].dataSync();
      for (let e = 0; e < x.length; e++) m = Math.max(m, Math.abs(x[e] - y[e]));
    }),
  );
  return m;
}

/** base + Σ w·ΔW in float64 for every linear, written straight from the block definitions. */
function manualFuse(adapters: WeightedAdapter[]): Float64Array[] {
  return base.layers.flatMap((layer, l) =>
    MODULE_NAMES.map((mod) => {
      const inDim = layer.linear[mod].shape[1];
      const out = Float64Array.from(layer.linear[mod].dataSync());
      for (const { adapter, weight } of adapters) {
        for (const b of adapter.blocks.filter((x) => x.layer === l && x.module === mod)) {
          const [rows, cols] = b.shape;
          for (let r = 0; r < rows; r++)
            for (let c = 0; c < cols; c++) {
              out[b.axis === 'columns' ? r * inDim + b.indices[c] : b.indices[r] * inDim + c] +=
                weight * b.delta[r * cols + c];
            }
        }
      }
      return out;
    }),
  );
}

function expectBaseUnchanged(): void {
  expect(maxDiff(base, baseValues)).toBe(0);
}

describe('ServingWeights: in-place adapter switching', () => {
  it('every switch equals fuseAdapters(base, to) exactly and the float64 sum within 1e-6', () => {
    const tensors = tf.memory().numTensors;
    const serving = new ServingWeights(base);
    const steps: [string, WeightedAdapter[]][] = [
      ['base → A', [{ adapter: adA, weight: 1 }]],
      ['A → B (overlapping)', [{ adapter: adB, weight: 1 }]],
      [
        'B → 0.7·A − 0.3·B',
        [
          { adapter: adA, weight: 0.7 },
          { adapter: adB, weight: -0.3 },
        ],
      ],
      ['→ C (disjoint from A)', [{ adapter: adC, weight: 1 }]],
      ['C → A (disjoint)', [{ adapter: adA, weight: 1 }]],
      ['A → 2·B', [{ adapter: adB, weight: 2 }]],
    ];
    for (const [name, to] of steps) {
      serving.switchTo(to);
      const reference = fuseAdapters(base, to);
      const exact = maxDiff(serving.weights, reference);
      const manual = maxDiff(serving.weights, manualFuse(to));
      const effect = maxDiff(serving.weights, baseValues);
      console.log(
        `${name}: vs fuseAdapters ${exact} (tol 0), vs float64 sum ${manual.toExponential(3)} (tol 1e-6), vs base ${effect.toExponential(3)}`,
      );
      expect(exact).toBe(0);
      expect(manual).toBeLessThanOrEqual(1e-6);
      expect(effect).toBeGreaterThan(1e-3);
      releaseReplacedWeights(reference, base);
    }
    serving.switchTo([]);
    expect(maxDiff(serving.weights, baseValues)).toBe(0);
    expect(serving.weights.layers[0].linear.o_proj).toBe(base.layers[0].linear.o_proj);
    serving.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
    expectBaseUnchanged();
  });

  it('writes the copies in place, leaves untouched modules on the base, never writes the base', () => {
    const serving = new ServingWeights(base);
    serving.switchTo([{ adapter: adA, weight: 1 }]);
    const copyO = serving.weights.layers[0].linear.o_proj;
    const copyV = serving.weights.layers[0].linear.v_proj;
    expect(copyO).not.toBe(base.layers[0].linear.o_proj);
    expect(serving.weights.layers[0].linear.q_proj).toBe(base.layers[0].linear.q_proj); // A never touches q
    const tensors = tf.memory().numTensors;
    serving.switchTo([{ adapter: adB, weight: 1 }]);
    // o_proj of layer 0 is touched by both: the same tensor, rewritten in its own memory.
    expect(serving.weights.layers[0].linear.o_proj).toBe(copyO);
    expect(copyO.isDisposed).toBe(false);
    // v_proj of layer 0 only by A: back to the base tensor, the copy freed.
    expect(serving.weights.layers[0].linear.v_proj).toBe(base.layers[0].linear.v_proj);
    expect(copyV.isDisposed).toBe(true);
    // B adds up_proj rows in layer 1 (a new copy) and drops layer 0's up_proj and v_proj copies.
    expect(tf.memory().numTensors).toBe(tensors - 1);
    // Many switches leave no drift: W is restored from the base, not unfused.
    for (let i = 0; i < 20; i++) serving.switchTo([{ adapter: i % 2 === 0 ? adA : adB, weight: 1 }]);
    const reference = fuseAdapters(base, [{ adapter: adB, weight: 1 }]);
    const drift = maxDiff(serving.weights, reference);
    console.log(`after 22 switches A ↔ B: vs fuseAdapters(base, B) ${drift} (tol 0)`);
    expect(drift).toBe(0);
    releaseReplacedWeights(reference, base);
    serving.dispose();
    expectBaseUnchanged();
  });

  it('detects a copy whose data is shared and replaces it instead of writing it', () => {
    const serving = new ServingWeights(base);
    serving.switchTo([{ adapter: adA, weight: 1 }]);
    const served = serving.weights.layers[0].linear.o_proj;
    const alias = tf.clone(served); // cpu: shares the data (reference count 2)
    const before = alias.dataSync().slice();
    serving.switchTo([{ adapter: adB, weight: 1 }]);
    expect(serving.weights.layers[0].linear.o_proj).not.toBe(served);
    expect(Array.from(alias.dataSync())).toEqual(Array.from(before)); // the clone still holds base + A
    const reference = fuseAdapters(base, [{ adapter: adB, weight: 1 }]);
    expect(maxDiff(serving.weights, reference)).toBe(0);
    releaseReplacedWeights(reference, base);
    alias.dispose();
    serving.dispose();
  });

  it('checks every block before writing anything', () => {
    const serving = new ServingWeights(base);
    serving.switchTo([{ adapter: adA, weight: 1 }]);
    const before = serving.weights.layers.flatMap((layer) =>
      MODULE_NAMES.map((m) => layer.linear[m].dataSync().slice()),
    );
    const bad = {
      blocks: [
        ...adB.blocks,
        { ...adB.blocks[0], layer: 1, indices: Int32Array.from(adB.blocks[0].indices, (j) => j + 100) },
      ],
    };
    let error: unknown;
    try {
      serving.switchTo([{ adapter: bad, weight: 1 }]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toMatch(/outside the model's 32 columns/);
    expect(maxDiff(serving.weights, before)).toBe(0);
    serving.dispose();
  });
});
