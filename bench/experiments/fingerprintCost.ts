/**
 * What hashing every weight (src/core/io/fingerprint.ts) costs while a checkpoint loads, for the
 * Qwen2.5-0.5B shape: random BF16 weights written by scripts/realShapes/ into test-checkpoints/
 * (absent ones are written first), loaded with loadCheckpoint on the tfjs cpu backend. The time
 * spent inside the fingerprinter (xxh64 of every float32 value plus the old kind's sampler) is
 * summed during the load itself and printed against the whole load.
 *   npx tsx bench/experiments/fingerprintCost.ts [layers]     (default: all 24)
 * Fewer layers keep the real per-tensor sizes (embedding [151936, 896], each layer's linears)
 * and only drop whole layers.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadCheckpoint } from '../../src/core/io/checkpoint';
import { WeightsFingerprinter } from '../../src/core/io/fingerprint';
import { nodeDirectorySource } from '../../src/core/io/nodeFiles';
import { disposeWeights } from '../../src/core/model/init';
import { CHECKPOINTS_DIR, QWEN25_05B, withLayers } from '../../scripts/realShapes/shapes';
import { writeRealShape } from '../../scripts/realShapes/write';

const layers = Number(process.argv[2] ?? QWEN25_05B.config.num_hidden_layers);
const shape = layers === QWEN25_05B.config.num_hidden_layers ? QWEN25_05B : withLayers(QWEN25_05B, layers);
const dir = join(CHECKPOINTS_DIR, shape.name);
if (!existsSync(join(dir, 'config.json'))) {
  console.log(`writing ${dir} (random BF16 weights) ...`);
  await writeRealShape(shape, dir);
}
await tf.setBackend('cpu');

// Time every call into the fingerprinter while loadCheckpoint runs.
let hashMs = 0;
let hashedBytes = 0;
const proto = WeightsFingerprinter.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
for (const method of ['tensor', 'add', 'digest']) {
  const original = proto[method];
  proto[method] = function (this: unknown, ...args: unknown[]) {
    const started = performance.now();
    try {
      return original.apply(this, args);
    } finally {
      hashMs += performance.now() - started;
      if (method === 'add') hashedBytes += (args[0] as Float32Array).byteLength;
    }
  };
}

const runs = 3;
for (let run = 1; run <= runs; run++) {
  hashMs = 0;
  hashedBytes = 0;
  const started = performance.now();
  const loaded = await loadCheckpoint(await nodeDirectorySource(dir));
  const loadMs = performance.now() - started;
  disposeWeights(loaded.weights);
  console.log(
    `${shape.name} run ${run}/${runs}: load ${loadMs.toFixed(0)} ms, of which fingerprint ${hashMs.toFixed(0)} ms ` +
      `(${((100 * hashMs) / loadMs).toFixed(1)}% of the load; ${(hashedBytes / 2 ** 30).toFixed(2)} GiB of float32 at ` +
      `${(hashedBytes / 2 ** 30 / (hashMs / 1000)).toFixed(2)} GiB/s); fingerprint ${loaded.fingerprint}`,
  );
}
