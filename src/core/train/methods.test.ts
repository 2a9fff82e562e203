import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../errors';
import { disposeWeights, initWeights } from '../model/init';
import { tinyConfig } from '../model/testing/tinyModels';
import type { MethodName } from './method';
import { prepareMethod } from './methods';

const config = tinyConfig();

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('prepareMethod', () => {
  it('dispatches each name to its method, which frees what it allocated', () => {
    const weights = initWeights(config, 1);
    const held = tf.memory().numTensors;
    const expected: Record<MethodName, number> = {
      s2ft: 2 * 8 * config.hiddenSize + 3 * config.hiddenSize, // 2 heads of hd 8 + 3 channels, one layer
      lora: 2 * config.numLayers * (32 + 32 + 2 * (32 + 16) + 2 * (32 + 48)), // r=2 on q, k, v, up, down
      full: 0,
    };
    for (const name of ['s2ft', 'lora', 'full'] as const) {
      const m = prepareMethod(
        name,
        { config, weights },
        {
          selection: {
            layers: [
              { heads: [0, 3], channels: [1, 2, 3] },
              { heads: [], channels: [] },
            ],
          },
          lora: { rank: 2 },
        },
      );
      expect(m.name).toBe(name);
      if (name !== 'full') expect(m.stats().trainableParams).toBe(expected[name]);
      m.dispose();
      expect(tf.memory().numTensors).toBe(held);
    }
    disposeWeights(weights);
  });

  it('asks for the settings a method needs', () => {
    const weights = initWeights(config, 1);
    expect(() => prepareMethod('s2ft', { config, weights }, {})).toThrow(UserError);
    expect(() => prepareMethod('lora', { config, weights }, {})).toThrow(/rank/);
    expect(() => prepareMethod('bogus' as MethodName, { config, weights }, {})).toThrow(/unknown method "bogus"/);
    disposeWeights(weights);
  });
});
