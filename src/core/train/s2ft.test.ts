/**
 * The Must-show gradient test of issue 4: on a tiny GQA model (H 4, Hkv 2) the S²FT block
 * gradients equal the plain-autodiff gradient of the full weight restricted to the selected
 * columns (rows for v/up), and no gradient is ever computed for a frozen matrix.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposeWeights, initWeights } from '../model/init';
import { defaultLinear, forward } from '../model/llama';
import { randomIds, tinyConfig } from '../model/testing/tinyModels';
import type { LlamaModel, LlamaWeights, ModuleName } from '../model/types';
import { MODULE_NAMES } from '../model/types';
import { headColumns } from '../s2ft/indices';
import type { Selection } from '../s2ft/types';
import { crossEntropy } from './loss';
import { prepareS2ft } from './s2ft';

const TOL = 1e-4;
const config = tinyConfig(); // D 32, F 48, L 2, H 4, Hkv 2, hd 8, V 50
const B = 2,
  T = 3; // N = 6: no activation shares a shape with a weight
let model: LlamaModel;
let ids: tf.Tensor2D, labels: tf.Tensor2D;

const selection: Selection = {
  layers: [
    { heads: [3, 0], channels: [5, 17, 40], vHeads: [1], upChannels: [2, 47] },
    { heads: [2], channels: [0, 33] },
  ],
};

beforeAll(async () => {
  await tf.setBackend('cpu');
  // std 0.2 so the loss is far from uniform and gradients are not tiny.
  model = { config, weights: initWeights(config, 7, { std: 0.2 }) };
  const rows = randomIds(B, T + 1, config.vocabSize, 11);
  ids = tf.tensor2d(
    rows.map((r) => r.slice(0, T)),
    [B, T],
    'int32',
  );
  labels = tf.tensor2d(
    rows.map((r) => r.slice(1)),
    [B, T],
    'int32',
  );
});
afterAll(() => {
  disposeWeights(model.weights);
  ids.dispose();
  labels.dispose();
});

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

/** Plain autodiff: every trained module of the selection as a full-weight variable, default linear. */
function referenceGradients(): Map<string, tf.Tensor2D> {
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
    () => crossEntropy(forward({ config, weights }, ids, { linear: defaultLinear }), labels),
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

describe('S²FT gradients equal plain autodiff restricted to the block (GQA)', () => {
  it('o_proj / down_proj columns and v_proj / up_proj rows', async () => {
    const method = prepareS2ft(model, selection);
    const ref = referenceGradients();
    const { grads, value } = tf.variableGrads(
      () => crossEntropy(forward({ config, weights: method.weights }, ids, { linear: method.linear }), labels),
      method.trainable,
    );
    // Only the block variables get gradients.
    expect(Object.keys(grads).sort()).toEqual(method.trainable.map((v) => v.name).sort());
    const refLoss = tf.tidy(() => crossEntropy(forward(model, ids), labels).dataSync()[0]);
    expect(Math.abs(value.dataSync()[0] - refLoss)).toBeLessThan(1e-6); // zero blocks: same model

    let worst = 0;
    (await method.blocks()).forEach((b, i) => {
      // blocks() follows trainable's order
      const g = grads[method.trainable[i].name];
      const full = ref.get(`${b.layer}.${b.module}`)!; // [out, in]
      const idx = tf.tensor1d(b.indices, 'int32');
      const expected = tf.gather(full, idx, b.axis === 'columns' ? 1 : 0); // [out, k] or [k, in]
      const d = relDiff(g.dataSync(), expected.dataSync());
      console.log(
        `layer ${b.layer} ${b.module} ${b.axis} k=${b.indices.length}: max rel diff ${d.toExponential(2)} (tol ${TOL})`,
      );
      worst = Math.max(worst, d);
      idx.dispose();
      expected.dispose();
    });
    expect(worst).toBeLessThanOrEqual(TOL);
    // o_proj block of layer 0 covers heads 0 and 3 in ascending order: columns 0..7 then 24..31.
    expect(Array.from((await method.blocks())[0].indices)).toEqual(Array.from(headColumns([0, 3], config.headDim)));
    expect(method.stats().trainableParams).toBe(32 * 16 + 32 * 3 + 8 * 32 + 2 * 32 + 32 * 8 + 32 * 2);
    value.dispose();
    Object.values(grads).forEach((t) => t.dispose());
    ref.forEach((t) => t.dispose());
    method.dispose();
  });

  it('computes no weight gradient for any frozen matrix (every kernel of forward + backward inspected)', async () => {
    const method = prepareS2ft(model, {
      layers: [
        { heads: [1], channels: [3] },
        { heads: [], channels: [] },
      ],
    });
    const frozenShapes = new Set<string>();
    for (const layer of model.weights.layers)
      for (const m of MODULE_NAMES) frozenShapes.add(layer.linear[m].shape.join('x'));
    frozenShapes.add([config.vocabSize, config.hiddenSize].join('x')); // lm_head / embedding
    const before = tf.memory().numTensors;
    const profile = await tf.profile(() => {
      const { grads, value } = tf.variableGrads(
        () => crossEntropy(forward({ config, weights: method.weights }, ids, { linear: method.linear }), labels),
        method.trainable,
      );
      value.dispose();
      Object.values(grads).forEach((t) => t.dispose());
    });
    // Identity is the tape's clone of lm_head's weight (saved for dx; it shares the data, computes nothing).
    const weightShaped = profile.kernels.filter(
      (k) => k.name !== 'Identity' && k.outputShapes.some((s) => s && frozenShapes.has(s.join('x'))),
    );
    console.log(
      `kernels run: ${profile.kernels.length}; with a frozen weight's shape as output: ${weightShaped.length}`,
    );
    expect(profile.kernels.length).toBeGreaterThan(50);
    expect(weightShaped.map((k) => `${k.name} ${k.outputShapes.join()}`)).toEqual([]);
    // The blocks' gradients, by contrast, are there: [D, hd] and [D, 1].
    expect(
      profile.kernels.some((k) =>
        k.outputShapes.some((s) => s?.join('x') === `${config.hiddenSize}x${config.headDim}`),
      ),
    ).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    method.dispose();
  });
});
