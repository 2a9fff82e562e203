/**
 * Where one real-shape training step's time goes (bench/PROFILE.md §5): S²FT matched to LoRA
 * rank 8 on the Node backend, per kernel process CPU time (bench/lib/kernelClock.ts), matmuls
 * split by role. Two shapes:
 * - the SmolLM2-135M shape, batch B × T (default 1 × 128): bench/results/profile-wasm-real.json;
 * - with --embedded, the embedded default model's shape (bench/lib/configs.ts defaultModelConfig),
 *   default 16 × 128 as in the PyTorch comparison: bench/results/profile-wasm-embedded.json.
 *   npx tsx bench/experiments/realShapeProfile.ts [B] [T] [--embedded]
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as tf from '@tensorflow/tfjs';
import { describeBackend, initNodeBackend } from '../../src/cli/lib/backend';
import { trainConfig } from '../../src/core/train/config';
import { Trainer } from '../../src/core/train/trainer';
import { cpuMs, prepareOn, randomFeed, sync } from '../lib/compare';
import { defaultModelConfig, SMOLLM2_135M } from '../lib/configs';
import { kernelCpuTimes } from '../lib/kernelClock';

const embedded = process.argv.includes('--embedded');
const [bArg, tArg] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const B = Number(bArg ?? (embedded ? 16 : 1)),
  T = Number(tArg ?? 128);
const config = embedded ? defaultModelConfig().config : SMOLLM2_135M;
const shapeName = embedded ? 'embedded' : 'SmolLM2-135M';

/** BatchMatMul by role: the head (right operand the [V, D] embedding), attention (batched), other linears. */
function matmulRole(kernel: string, inputs: tf.NamedTensorInfoMap): string | null {
  if (kernel !== 'BatchMatMul') return null;
  const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  if (b.shape.join() === `${config.vocabSize},${config.hiddenSize}`) return 'BatchMatMul: LM head (vocabulary)';
  if (a.shape.length > 2) return 'BatchMatMul: attention (q·kᵀ, p·v and their gradients)';
  return 'BatchMatMul: linears (q, k, v, o, gate, up, down)';
}

await initNodeBackend();
const { prepared, release } = await prepareOn('s2ft', config, 0, 8);
const trainer = new Trainer(
  prepared,
  config,
  randomFeed(config.vocabSize, B, T, 0),
  trainConfig({ steps: 10, lr: 1e-4, schedule: 'constant', batchSize: B }),
  [],
  { profileMemory: 'never' },
);
const step = async () => {
  await trainer.step();
  await sync(prepared.trainable[0]);
};
const warmup: number[] = [];
for (let i = 0; i < 3; i++) {
  const start = cpuMs();
  await step();
  warmup.push(cpuMs() - start);
}
const times = await kernelCpuTimes(step, matmulRole);
const kernelsMs = times.byName.reduce((s, e) => s + e.ms, 0);
console.log(`${await describeBackend()}: warm-up steps ${warmup.map((t) => t.toFixed(0)).join(', ')} ms CPU`);
console.log(`profiled step ${times.totalMs.toFixed(0)} ms CPU, in kernels ${kernelsMs.toFixed(0)} ms`);
for (const e of times.byName.slice(0, embedded ? 40 : 24))
  console.log(`${e.name.padEnd(56)} ${String(e.calls).padStart(5)} ${e.ms.toFixed(1).padStart(8)} ms`);
const file = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'results',
  `profile-wasm-${embedded ? 'embedded' : 'real'}.json`,
);
writeFileSync(
  file,
  `${JSON.stringify({ shape: shapeName, batchSize: B, seqLen: T, method: 's2ft', warmupCpuMs: warmup, ...times }, null, 2)}\n`,
);
trainer.dispose();
release();
