/**
 * The Node backend (wasm with src/wasm's kernels) computes the gradients of every method as the
 * cpu backend does: all trainable gradients of S²FT, LoRA and full fine-tuning on a tiny model,
 * same weights, data and seed (bench/lib/gradcheck.ts, which `npm run bench` also runs first).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, expect, it } from 'vitest';
import { gradientCheck } from '../bench/lib/gradcheck';
import { initNodeBackend } from '../src/cli/lib/backend';

afterAll(async () => {
  await tf.setBackend('cpu');
});

it('wasm gradients equal cpu gradients for every method', async () => {
  const { maxAbsDiff, tolerance } = await gradientCheck('cpu', initNodeBackend, (line) => console.log(line));
  for (const diff of Object.values(maxAbsDiff)) expect(diff).toBeLessThanOrEqual(tolerance);
}, 120_000);
