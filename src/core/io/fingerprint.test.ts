import { describe, expect, it } from 'vitest';
import { tinyConfig } from '../model/testing/tinyModels';
import { checkpointTensors } from './checkpointLayout';
import { FINGERPRINT_SAMPLES, Fnv1a64, fingerprintWeights, sampleValues } from './fingerprint';

describe('Fnv1a64', () => {
  // Published FNV-1a 64-bit test vectors (Fowler/Noll/Vo reference code).
  it.each([
    ['', 'cbf29ce484222325'],
    ['a', 'af63dc4c8601ec8c'],
    ['foobar', '85944171f73967e8'],
  ])('hashes %j to %s', (text, hex) => {
    expect(new Fnv1a64().updateText(text).hex()).toBe(hex);
  });

  it('matches a BigInt reference on 1000 pseudo-random bytes', () => {
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 2654435761) >>> 24);
    let h = 0xcbf29ce484222325n;
    for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
    expect(new Fnv1a64().update(bytes).hex()).toBe(h.toString(16).padStart(16, '0'));
  });
});

describe('fingerprintWeights', () => {
  const config = tinyConfig({
    vocabSize: 10,
    hiddenSize: 8,
    intermediateSize: 12,
    numHeads: 2,
    numKvHeads: 1,
    headDim: 4,
    numLayers: 1,
  });
  const arrays = () =>
    new Map(
      checkpointTensors(config).map(({ name, shape }, t) => {
        const n = shape.reduce((a, d) => a * d, 1);
        return [name, Float32Array.from({ length: n }, (_, i) => Math.sin(1 + i + 100 * t))];
      }),
    );

  it('samples the same values from chunks as from the whole tensor', () => {
    const whole = Float32Array.from({ length: 5000 }, (_, i) => i);
    const chunks = [whole.subarray(0, 1234), whole.subarray(1234, 1235), whole.subarray(1235)];
    const samples = sampleValues(chunks);
    expect(samples.length).toBe(FINGERPRINT_SAMPLES);
    expect(Array.from(samples)).toEqual(Array.from(sampleValues([whole])));
    expect(Array.from(samples.subarray(0, 3))).toEqual([0, 4, 9]); // ⌊k·5000/1024⌋
  });

  it('is stable, independent of embedding splits, and changes with a sampled weight or the config', () => {
    const named = arrays();
    const fp = fingerprintWeights(config, named);
    console.log(`fingerprint of the tiny test weights: ${fp}`);
    expect(fingerprintWeights(config, arrays())).toBe(fp);
    const embed = named.get('model.embed_tokens.weight') as Float32Array;
    const split = new Map<string, Float32Array | Float32Array[]>(named);
    split.set('model.embed_tokens.weight', [embed.subarray(0, 24), embed.subarray(24)]);
    expect(fingerprintWeights(config, split)).toBe(fp);

    const changed = arrays();
    (changed.get('model.layers.0.mlp.down_proj.weight') as Float32Array)[0] += 1e-6;
    expect(fingerprintWeights(config, changed)).not.toBe(fp);
    expect(fingerprintWeights({ ...config, ropeTheta: 500000 }, named)).toBe(fp); // rope does not change weights
    expect(() => fingerprintWeights({ ...config, numLayers: 2 }, named)).toThrow(
      /no values for tensor "model.layers.1.input_layernorm.weight"/,
    );
  });
});
