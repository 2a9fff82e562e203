import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { UserError } from '../errors';
import { disposeWeights, initWeights } from '../model/init';
import { tinyConfig } from '../model/testing/tinyModels';
import { prepareS2ft } from '../train/s2ft';
import { DEFAULT_MODULES, loraParams, s2ftParams, unitCounts } from './budget';
import { selectUnits } from './selection';

// LLaMA2-7B's shapes: the paper's reference point for budget matching.
const llama2_7b = tinyConfig({
  hiddenSize: 4096,
  intermediateSize: 11008,
  numLayers: 32,
  numHeads: 32,
  numKvHeads: 32,
  headDim: 128,
});

describe('budget', () => {
  it("LoRA r = 32 on LLaMA2-7B matches the paper's o_ratio 0.052 / d_ratio 0.02 under global allocation", () => {
    // By hand: per layer r·[(4096+4096)·3 + (4096+11008)·2] = 32·54784 = 1,753,088; × 32 layers.
    expect(loraParams(llama2_7b, 32)).toBe(32 * 54784 * 32);
    const g = unitCounts(llama2_7b, { kind: 'loraRank', rank: 32 }, 'global', DEFAULT_MODULES);
    const u = unitCounts(llama2_7b, { kind: 'loraRank', rank: 32 }, 'uniform', DEFAULT_MODULES);
    const paramsG = g.heads * 128 * 4096 + g.channels * 4096;
    const paramsU = 32 * (u.heads * 128 * 4096 + u.channels * 4096);
    console.log(
      `LLaMA2-7B r=32: LoRA ${loraParams(llama2_7b, 32)} params; S²FT global ${g.heads} heads (${(g.heads / 1024).toFixed(4)}) + ${g.channels} channels (${(g.channels / 352256).toFixed(4)}) = ${paramsG}; uniform ${u.heads} heads + ${u.channels} channels per layer = ${paramsU}`,
    );
    // floor(0.5 · 56,098,816 / 524,288) = 53; floor((56,098,816 − 53·524,288) / 4096) = 6912
    expect(g).toEqual({ allocation: 'global', heads: 53, channels: 6912 });
    expect(u).toEqual({ allocation: 'uniform', heads: 1, channels: 300 });
    expect(paramsG).toBeLessThanOrEqual(loraParams(llama2_7b, 32));
    expect(paramsU).toBeLessThanOrEqual(loraParams(llama2_7b, 32));
    expect(paramsG / loraParams(llama2_7b, 32)).toBeGreaterThan(0.999);
  });

  it("tiny model: the matched selection's exact count, as prepareS2ft counts it, is ≤ LoRA's", async () => {
    const config = tinyConfig(); // D 32, F 48, H 4, Hkv 2, hd 8, L 2
    const model = { config, weights: initWeights(config, 1) };
    for (const rank of [1, 2, 4]) {
      const { selection, params, counts } = await selectUnits(model, { budget: { kind: 'loraRank', rank } });
      const method = prepareS2ft(model, selection);
      console.log(
        `tiny r=${rank}: LoRA ${loraParams(config, rank)} params; S²FT ${counts.heads} heads + ${counts.channels} channels per layer = ${params}`,
      );
      expect(method.stats().trainableParams).toBe(params);
      expect(params).toBeLessThanOrEqual(loraParams(config, rank));
      // under one channel per layer short
      expect(loraParams(config, rank) - params).toBeLessThan(config.hiddenSize * config.numLayers);
      method.dispose();
    }
    disposeWeights(model.weights);
    expect(tf.memory().numTensors).toBe(0);
  });

  it('ratios, per-layer counts, row blocks and bad budgets', () => {
    const config = tinyConfig();
    expect(unitCounts(config, { kind: 'ratio', heads: 0.5, channels: 0.25 }, 'uniform', DEFAULT_MODULES)).toEqual({
      allocation: 'uniform',
      heads: 2,
      channels: 12,
    });
    expect(unitCounts(config, { kind: 'ratio', heads: 0.5, channels: 0.25 }, 'global', DEFAULT_MODULES)).toEqual({
      allocation: 'global',
      heads: 4,
      channels: 24,
    });
    expect(unitCounts(config, { kind: 'perLayer', heads: 1, channels: 3 }, 'global', DEFAULT_MODULES)).toEqual({
      allocation: 'global',
      heads: 2,
      channels: 6,
    });
    expect(
      unitCounts(config, { kind: 'perLayer', heads: 1, channels: 3 }, 'uniform', {
        ...DEFAULT_MODULES,
        downProj: false,
      }),
    ).toEqual({ allocation: 'uniform', heads: 1, channels: 0 });
    expect(
      s2ftParams(config, {
        layers: [
          { heads: [0], channels: [1, 2], vHeads: [1], upChannels: [4] },
          { heads: [], channels: [] },
        ],
      }),
    ).toBe(8 * 32 + 2 * 32 + 8 * 32 + 32);
    expect(() => unitCounts(config, { kind: 'perLayer', heads: 5, channels: 0 }, 'uniform', DEFAULT_MODULES)).toThrow(
      UserError,
    );
    expect(() => unitCounts(config, { kind: 'ratio', heads: 1.5, channels: 0 }, 'uniform', DEFAULT_MODULES)).toThrow(
      /head ratio must be in \[0, 1\]/,
    );
    expect(() => unitCounts(config, { kind: 'loraRank', rank: 0 }, 'uniform', DEFAULT_MODULES)).toThrow(
      /positive integer/,
    );
  });
});
