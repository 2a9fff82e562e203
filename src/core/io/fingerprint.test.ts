import { xxhash64 } from 'hash-wasm';
import { describe, expect, it } from 'vitest';
import { tinyConfig } from '../model/testing/tinyModels';
import { checkpointTensors } from './checkpointLayout';
import { FINGERPRINT_PREFIX, WeightsFingerprinter, fingerprintArrays, isSampledFingerprint } from './fingerprint';
import { configEssentials } from './sampledFingerprint';

describe('fingerprint (every weight)', () => {
  const config = tinyConfig({
    vocabSize: 64,
    hiddenSize: 8,
    intermediateSize: 12,
    numHeads: 2,
    numKvHeads: 1,
    headDim: 4,
    numLayers: 2,
  });
  const arrays = () =>
    new Map(
      checkpointTensors(config).map(({ name, shape }, t) => {
        const n = shape.reduce((a, d) => a * d, 1);
        return [name, Float32Array.from({ length: n }, (_, i) => Math.sin(1 + i + 100 * t))];
      }),
    );

  it('equals one xxh64 over the whole byte stream, whatever the chunking', async () => {
    const named = arrays();
    const { fingerprint, sampledFingerprint } = await fingerprintArrays(config, named);
    // Independent computation: the stream laid out in one buffer, hashed in one call.
    const encoder = new TextEncoder();
    const parts: Uint8Array[] = [encoder.encode(configEssentials(config))];
    for (const { name, shape } of checkpointTensors(config)) {
      const values = named.get(name)!;
      parts.push(encoder.encode(`${name}[${shape.join(',')}]`), new Uint8Array(values.buffer.slice(0)));
    }
    const stream = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((at, p) => (stream.set(p, at), at + p.length), 0);
    expect(fingerprint).toBe(FINGERPRINT_PREFIX + (await xxhash64(stream)));
    expect(isSampledFingerprint(fingerprint)).toBe(false);
    expect(isSampledFingerprint(sampledFingerprint)).toBe(true);
    console.log(`fingerprint ${fingerprint} over ${stream.length} bytes; sampled ${sampledFingerprint}`);

    const embed = named.get('model.embed_tokens.weight')!;
    const split = new Map<string, Float32Array | Float32Array[]>(named);
    split.set('model.embed_tokens.weight', [embed.subarray(0, 24), embed.subarray(24, 25), embed.subarray(25)]);
    expect((await fingerprintArrays(config, split)).fingerprint).toBe(fingerprint);
    expect((await fingerprintArrays({ ...config, ropeTheta: 500000 }, named)).fingerprint).toBe(fingerprint);
  });

  it('changes when any single weight of any tensor changes by 1e-3', async () => {
    const { fingerprint } = await fingerprintArrays(config, arrays());
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const seen = new Set([fingerprint]);
    for (const { name } of checkpointTensors(config)) {
      const changed = arrays();
      const values = changed.get(name)!;
      values[next() % values.length] += 1e-3;
      seen.add((await fingerprintArrays(config, changed)).fingerprint);
    }
    expect(seen.size).toBe(checkpointTensors(config).length + 1);
  });

  it('refuses tensors out of order, short or long (a loader bug)', async () => {
    const f = await WeightsFingerprinter.start(config);
    expect(() => f.tensor('model.norm.weight')).toThrow(/expected "model.embed_tokens.weight"/);
    const g = await WeightsFingerprinter.start(config);
    g.tensor('model.embed_tokens.weight');
    expect(() => g.add(new Float32Array(64 * 8 + 1))).toThrow(/more values/);
    g.add(new Float32Array(10));
    expect(() => g.tensor('model.layers.0.input_layernorm.weight')).toThrow(/502 values short/);
  });
});
