/**
 * Selection strategies: deterministic by seed, and picking what they claim on a model where a
 * unit with a known largest / smallest score has been planted. Gradient scores are also checked
 * against plain autodiff of the full weights.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposeWeights, initWeights } from '../model/init';
import { forward } from '../model/llama';
import { randomIds, tinyConfig } from '../model/testing/tinyModels';
import type { LlamaModel, LlamaWeights, ModuleName } from '../model/types';
import type { Batch } from '../train/batch';
import { crossEntropy } from '../train/loss';
import { gradientScores } from './scores';
import { selectUnits, type SelectOptions } from './selection';

const config = tinyConfig(); // D 32, F 48, L 2, H 4, Hkv 2 (heads 0,1 read kv 0; heads 2,3 read kv 1), hd 8
let base: LlamaModel;
let calibration: Batch[];

function makeBatch(seed: number): Batch {
  const B = 2,
    T = 5;
  const rows = randomIds(B, T + 1, config.vocabSize, seed);
  return {
    batchSize: B,
    seqLen: T,
    inputIds: Int32Array.from(rows.flatMap((r) => r.slice(0, T))),
    labels: Int32Array.from(rows.flatMap((r) => r.slice(1))),
  };
}

/** W with some rows or columns multiplied by a factor: the planting tool. */
function scaled(w: tf.Tensor2D, axis: 0 | 1, units: number[], factor: number): tf.Tensor2D {
  return tf.tidy(() => {
    const n = w.shape[axis];
    const f = Float32Array.from({ length: n }, (_, i) => (units.includes(i) ? factor : 1));
    return tf.mul(w, axis === 0 ? tf.tensor2d(f, [n, 1]) : tf.tensor2d(f, [1, n]));
  });
}

/** A copy of base whose layer-0 `module` has `units` (rows: axis 0, columns: axis 1) scaled. */
function planted(changes: { module: ModuleName; axis: 0 | 1; units: number[]; factor: number }[]): LlamaModel {
  const layer0 = base.weights.layers[0];
  const linear = { ...layer0.linear };
  for (const c of changes) linear[c.module] = scaled(linear[c.module], c.axis, c.units, c.factor);
  const weights: LlamaWeights = { ...base.weights, layers: [{ ...layer0, linear }, ...base.weights.layers.slice(1)] };
  return { config, weights };
}
function disposePlanted(m: LlamaModel): void {
  const l0 = m.weights.layers[0].linear,
    b0 = base.weights.layers[0].linear;
  for (const k of Object.keys(l0) as ModuleName[]) if (l0[k] !== b0[k]) l0[k].dispose();
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  base = { config, weights: initWeights(config, 3, { std: 0.2 }) };
  calibration = [makeBatch(1), makeBatch(2)];
});
afterAll(() => disposeWeights(base.weights));

const perLayer = (heads: number, channels: number): SelectOptions['budget'] => ({ kind: 'perLayer', heads, channels });

describe('random selection', () => {
  it('is deterministic by seed, differs across seeds, and respects the budget', async () => {
    const a = await selectUnits(base, { budget: perLayer(2, 5), seed: 42 });
    const b = await selectUnits(base, { budget: perLayer(2, 5), seed: 42 });
    const c = await selectUnits(base, { budget: perLayer(2, 5), seed: 43 });
    console.log(`seed 42: ${JSON.stringify(a.selection.layers)}\nseed 43: ${JSON.stringify(c.selection.layers)}`);
    expect(b.selection).toEqual(a.selection);
    expect(c.selection).not.toEqual(a.selection);
    for (const l of a.selection.layers) {
      expect(new Set(l.heads).size).toBe(2);
      expect(new Set(l.channels).size).toBe(5);
      expect(l.heads.every((h) => h >= 0 && h < 4) && l.channels.every((ch) => ch >= 0 && ch < 48)).toBe(true);
      expect([...l.channels].sort((x, y) => x - y)).toEqual(l.channels);
    }
    expect(a.scores).toBeUndefined();
    const g = await selectUnits(base, { budget: perLayer(1, 5), allocation: 'global', seed: 42 });
    expect(g.selection.layers.reduce((s, l) => s + l.heads.length, 0)).toBe(2);
    expect(g.selection.layers.reduce((s, l) => s + l.channels.length, 0)).toBe(10);
    expect((await selectUnits(base, { budget: perLayer(1, 5), allocation: 'global', seed: 42 })).selection).toEqual(
      g.selection,
    );
  });

  it('v/up row blocks follow the selected heads (their kv heads) and channels', async () => {
    const r = await selectUnits(base, { budget: perLayer(2, 3), seed: 5, modules: { vProj: true, upProj: true } });
    for (const l of r.selection.layers) {
      expect(l.vHeads).toEqual([...new Set(l.heads.map((h) => Math.floor(h / 2)))]);
      expect(l.upChannels).toEqual(l.channels);
    }
  });
});

describe('scored strategies pick what they claim (planted units in layer 0)', () => {
  it('weight: head 2 has the largest o_proj block, head 1 the smallest; channel 7 / 30 likewise for down_proj', async () => {
    const m = planted([
      { module: 'o_proj', axis: 1, units: [16, 17, 18, 19, 20, 21, 22, 23], factor: 10 }, // head 2's columns
      { module: 'o_proj', axis: 1, units: [8, 9, 10, 11, 12, 13, 14, 15], factor: 0.01 }, // head 1's columns
      { module: 'down_proj', axis: 1, units: [7], factor: 10 },
      { module: 'down_proj', axis: 1, units: [30], factor: 0.01 },
    ]);
    const large = await selectUnits(m, { strategy: 'weight', pick: 'large', budget: perLayer(1, 1) });
    const small = await selectUnits(m, { strategy: 'weight', pick: 'small', budget: perLayer(1, 1) });
    console.log(`weight scores layer 0 heads: ${large.scores!.heads[0].map((s) => s.toFixed(3)).join(', ')}`);
    expect(large.selection.layers[0]).toEqual({ heads: [2], channels: [7] });
    expect(small.selection.layers[0]).toEqual({ heads: [1], channels: [30] });
    // Independent check of one score: ‖o_proj[:, 16:24]‖_F computed from the raw numbers.
    const o = m.weights.layers[0].linear.o_proj.arraySync();
    const ref = Math.sqrt(o.reduce((s, row) => s + row.slice(16, 24).reduce((t, v) => t + v * v, 0), 0));
    expect(Math.abs(large.scores!.heads[0][2] - ref) / ref).toBeLessThan(1e-5);
    disposePlanted(m);
  });

  it('activation: up row 11 ×10 is the largest channel, ×0.001 row 20 the smallest; kv head 1 ×10 makes heads 2, 3 largest', async () => {
    const m = planted([
      { module: 'up_proj', axis: 0, units: [11], factor: 10 },
      { module: 'up_proj', axis: 0, units: [20], factor: 0.001 },
      { module: 'v_proj', axis: 0, units: [8, 9, 10, 11, 12, 13, 14, 15], factor: 10 }, // kv head 1
      { module: 'v_proj', axis: 0, units: [0, 1, 2, 3, 4, 5, 6, 7], factor: 0.01 }, // kv head 0
    ]);
    const large = await selectUnits(m, { strategy: 'activation', pick: 'large', budget: perLayer(2, 1), calibration });
    const small = await selectUnits(m, { strategy: 'activation', pick: 'small', budget: perLayer(2, 1), calibration });
    console.log(`activation scores layer 0 heads: ${large.scores!.heads[0].map((s) => s.toFixed(3)).join(', ')}`);
    expect(large.selection.layers[0]).toEqual({ heads: [2, 3], channels: [11] });
    expect(small.selection.layers[0]).toEqual({ heads: [0, 1], channels: [20] });
    disposePlanted(m);
    // Channel score = ‖silu(gate)·up‖ at that channel: scaling only up row 11 by 10 (attention and
    // the MLP input unchanged) must scale exactly that score by 10 and leave channel 12's alone.
    const only = planted([{ module: 'up_proj', axis: 0, units: [11], factor: 10 }]);
    const a = (await selectUnits(only, { strategy: 'activation', budget: perLayer(1, 1), calibration })).scores!;
    const b = (await selectUnits(base, { strategy: 'activation', budget: perLayer(1, 1), calibration })).scores!;
    console.log(
      `activation of channel 11: planted ${a.channels[0][11].toFixed(4)} / base ${b.channels[0][11].toFixed(4)} = ${(a.channels[0][11] / b.channels[0][11]).toFixed(5)} (expect 10)`,
    );
    expect(a.channels[0][11] / b.channels[0][11]).toBeCloseTo(10, 4);
    expect(a.channels[0][12] / b.channels[0][12]).toBeCloseTo(1, 5);
    disposePlanted(only);
  });

  it('product: down column 7 ×10 with unchanged activations is the largest channel', async () => {
    const m = planted([{ module: 'down_proj', axis: 1, units: [7], factor: 10 }]);
    const r = await selectUnits(m, { strategy: 'product', pick: 'large', budget: perLayer(0, 1), calibration });
    const w = await selectUnits(m, { strategy: 'weight', budget: perLayer(0, 1) });
    const a = await selectUnits(m, { strategy: 'activation', budget: perLayer(0, 1), calibration });
    expect(r.selection.layers[0].channels).toEqual([7]);
    expect(r.scores!.channels[1][3]).toBeCloseTo(w.scores!.channels[1][3] * a.scores!.channels[1][3], 6);
    disposePlanted(m);
  });

  it('gradient: up row 11 ×10 gives down column 11 the largest gradient, row 20 ×0.001 the smallest', async () => {
    const m = planted([
      { module: 'up_proj', axis: 0, units: [11], factor: 10 },
      { module: 'up_proj', axis: 0, units: [20], factor: 0.001 },
      { module: 'v_proj', axis: 0, units: [8, 9, 10, 11, 12, 13, 14, 15], factor: 10 },
      { module: 'v_proj', axis: 0, units: [0, 1, 2, 3, 4, 5, 6, 7], factor: 0.01 },
    ]);
    const large = await selectUnits(m, { strategy: 'gradient', pick: 'large', budget: perLayer(2, 1), calibration });
    const small = await selectUnits(m, { strategy: 'gradient', pick: 'small', budget: perLayer(2, 1), calibration });
    expect(large.selection.layers[0]).toEqual({ heads: [2, 3], channels: [11] });
    expect(small.selection.layers[0]).toEqual({ heads: [0, 1], channels: [20] });
    disposePlanted(m);
  });

  it('gradient scores equal the column norms of plain-autodiff dL/dW (summed over calibration batches)', async () => {
    const before = tf.memory().numTensors;
    const scores = await gradientScores(base, calibration);
    await selectUnits(base, { strategy: 'product', budget: perLayer(1, 1), calibration });
    expect(tf.memory().numTensors).toBe(before); // scoring frees everything it made
    const vars = base.weights.layers.map((l) => ({
      o: tf.variable(l.linear.o_proj),
      d: tf.variable(l.linear.down_proj),
    }));
    const weights: LlamaWeights = {
      ...base.weights,
      layers: base.weights.layers.map((l, i) => ({
        ...l,
        linear: { ...l.linear, o_proj: vars[i].o as tf.Tensor2D, down_proj: vars[i].d as tf.Tensor2D },
      })),
    };
    const { value, grads } = tf.variableGrads(
      () =>
        tf.addN(
          calibration.map((b) =>
            crossEntropy(
              forward({ config, weights }, tf.tensor2d(b.inputIds, [b.batchSize, b.seqLen], 'int32')),
              tf.tensor2d(b.labels, [b.batchSize, b.seqLen], 'int32'),
            ),
          ),
        ) as tf.Scalar,
      vars.flatMap((v) => [v.o, v.d]),
    );
    let worst = 0;
    vars.forEach((v, l) => {
      const go = grads[v.o.name].arraySync() as number[][],
        gd = grads[v.d.name].arraySync() as number[][];
      const headRef = [0, 1, 2, 3].map((h) =>
        Math.sqrt(go.reduce((s, row) => s + row.slice(h * 8, h * 8 + 8).reduce((t, x) => t + x * x, 0), 0)),
      );
      const chanRef = Array.from({ length: 48 }, (_, c) => Math.sqrt(gd.reduce((s, row) => s + row[c] * row[c], 0)));
      const rel = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i]))) / Math.max(...b);
      worst = Math.max(worst, rel(scores.heads[l], headRef), rel(scores.channels[l], chanRef));
    });
    console.log(`gradient scores vs plain autodiff column norms: max rel diff ${worst.toExponential(2)} (tol 1e-4)`);
    expect(worst).toBeLessThanOrEqual(1e-4);
    value.dispose();
    Object.values(grads).forEach((g) => g.dispose());
    vars.forEach((v) => {
      v.o.dispose();
      v.d.dispose();
    });
  });

  it('a scored strategy without calibration data is a user error', async () => {
    await expect(selectUnits(base, { strategy: 'gradient', budget: perLayer(1, 1) })).rejects.toThrow(
      /needs a calibration set/,
    );
  });
});
