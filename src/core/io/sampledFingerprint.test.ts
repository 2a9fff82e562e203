import { describe, expect, it } from 'vitest';
import { tinyConfig } from '../model/testing/tinyModels';
import { checkpointTensors } from './checkpointLayout';
import { FINGERPRINT_SAMPLES, Fnv1a64, fingerprintSamples, sampleValues } from './sampledFingerprint';

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

describe('sampled fingerprint (the old kind)', () => {
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

  it('misses a weight between two samples (why every weight is now hashed: fingerprint.ts)', () => {
    const embedding = 'model.embed_tokens.weight';
    const sampled = (named: Map<string, Float32Array>) =>
      fingerprintSamples(config, new Map([...named].map(([name, values]) => [name, sampleValues([values])])));
    const named = arrays();
    const fp = sampled(named);
    expect(fp).toMatch(/^[0-9a-f]{16}$/);
    // 80 values, all sampled: any change shows.
    const changed = arrays();
    changed.get(embedding)![17] += 1e-3;
    expect(sampled(changed)).not.toBe(fp);
    // A 5000-value tensor keeps 1024 samples; value 1 lies between samples 0 and 4.
    const big = new Map(named);
    big.set(
      embedding,
      Float32Array.from({ length: 5000 }, (_, i) => i),
    );
    const bigConfig = { ...config, vocabSize: 625 };
    const a = fingerprintSamples(bigConfig, new Map([...big].map(([n, v]) => [n, sampleValues([v])])));
    big.get(embedding)![1] += 1e-3;
    const b = fingerprintSamples(bigConfig, new Map([...big].map(([n, v]) => [n, sampleValues([v])])));
    expect(b).toBe(a);
  });
});
