/**
 * S²FT, LoRA at matched trainable parameters, and full fine-tuning on the same model, data and
 * seed, through the real Trainer (AdamW, clipping, one readback per step), on whatever tfjs
 * backend is active. Runs in Node and in the browser page alike (no Node imports).
 *
 * Per method: `warmup` untimed steps, `timed` timed steps (median reported), then one step under
 * tf.profile for the peak tensor bytes. The peak is TOTAL engine bytes during a steady-state
 * step: model weights + optimizer state + activations + gradients, the quantity a user's memory
 * limit applies to. Full FT owns its weights as variables (the base copy is released after
 * prepare, as PyTorch fine-tuning holds one copy), so every method starts from the same bytes.
 */
import * as tf from '@tensorflow/tfjs';
import { disposeWeights, initWeights, linearShape } from '../../src/core/model/init';
import type { LlamaModel, ModelConfig } from '../../src/core/model/types';
import { selectUnits } from '../../src/core/s2ft/selection';
import type { Batch } from '../../src/core/train/batch';
import { DEFAULT_LORA_TARGETS } from '../../src/core/s2ft/budget';
import { nextTokenLabels } from '../../src/core/train/loss';
import { measurePeakBytes, measureStepPeakBytes } from '../../src/core/train/memory';
import type { MethodName } from '../../src/core/train/method';
import { prepareMethod, type AnyPreparedMethod } from '../../src/core/train/methods';
import { trainConfig } from '../../src/core/train/config';
import { Trainer, type BatchFeed } from '../../src/core/train/trainer';
import type { ProfileInfo } from './profile';
import { stepFlops, type MethodShape } from './flops';
import { median, type MethodResult, type ShapeResult } from './stats';

export interface CompareOptions {
  shape: ShapeResult['shape'];
  description: string;
  config: ModelConfig;
  batchSize: number;
  seqLen: number;
  /** LoRA rank; S²FT gets the same trainable-parameter budget (budget kind 'loraRank'). */
  loraRank: number;
  warmup: number;
  timed: number;
  seed: number;
  /** The backend's large-matmul FLOP/s, measured in the same run. */
  matmulFlopsPerSec: number;
  /** Called with a line of progress. */
  log?: (line: string) => void;
  /**
   * Run the memory-profiled step on this backend instead (tensors move over and back). The wasm
   * backend's Identity kernel COPIES every tensor the tape saves for the backward, where cpu,
   * WebGL and WebGPU share the buffer; wasm's byte count would charge full FT for a copy of
   * every weight. So the Node bench times on wasm and counts bytes on cpu.
   */
  memoryBackend?: string;
  /** Called with each method's profiled step (kernels, bytes) for PROFILE.md. */
  onProfile?: (method: MethodName, info: ProfileInfo) => void;
}

export const METHODS: readonly MethodName[] = ['s2ft', 'lora', 'full'];

/** Seeded random token rows (a fixed sequence per seed, so every method sees the same data). */
export function randomFeed(vocab: number, B: number, T: number, seed: number): BatchFeed {
  let state = (seed * 2654435761 + 12345) >>> 0;
  const next = (): number => {
    // xorshift32
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  return {
    next(): Batch {
      const inputIds = new Int32Array(B * T);
      const labels = new Int32Array(B * T);
      for (let b = 0; b < B; b++) {
        const row = Int32Array.from({ length: T }, () => next() % vocab);
        inputIds.set(row, b * T);
        labels.set(nextTokenLabels(row), b * T);
      }
      return { batchSize: B, seqLen: T, inputIds, labels };
    },
  };
}

/** A method prepared on fresh weights of `seed`, with the shapes its FLOPs are counted from. */
export async function prepareOn(
  name: MethodName,
  config: ModelConfig,
  seed: number,
  loraRank: number,
): Promise<{ model: LlamaModel; prepared: AnyPreparedMethod; shape: MethodShape; release: () => void }> {
  const model: LlamaModel = { config, weights: initWeights(config, seed) };
  if (name === 'full') {
    const prepared = prepareMethod('full', model, {});
    disposeWeights(model.weights); // the variables keep the data
    return { model, prepared, shape: { method: 'full' }, release: () => prepared.dispose() };
  }
  const release = (p: AnyPreparedMethod) => () => {
    p.dispose();
    disposeWeights(model.weights);
  };
  if (name === 'lora') {
    const prepared = prepareMethod('lora', model, { lora: { rank: loraRank, seed } });
    const pairs = Array.from({ length: config.numLayers }, () =>
      DEFAULT_LORA_TARGETS.map((m) => {
        const [out, inDim] = linearShape(config, m);
        return { out, in: inDim, rank: loraRank };
      }),
    ).flat();
    return { model, prepared, shape: { method: 'lora', pairs }, release: release(prepared) };
  }
  const { selection } = await selectUnits(model, { budget: { kind: 'loraRank', rank: loraRank }, seed });
  const prepared = prepareMethod('s2ft', model, { selection });
  const blocks =
    'blocks' in prepared
      ? (await prepared.blocks()).map((b) => {
          const [out, inDim] = linearShape(config, b.module);
          return { axis: b.axis, out, in: inDim, k: b.indices.length };
        })
      : [];
  return { model, prepared, shape: { method: 's2ft', blocks }, release: release(prepared) };
}

/** Process CPU milliseconds so far (Node), NaN in a browser. */
export function cpuMs(): number {
  const proc = (globalThis as { process?: { cpuUsage(): { user: number; system: number } } }).process;
  const u = proc?.cpuUsage();
  return u ? (u.user + u.system) / 1000 : NaN;
}

/**
 * A stopwatch on process CPU time where it exists (Node: the work of this process, whatever else
 * runs on a shared machine), else on wall time (browser). Returns elapsed ms when called.
 */
export function stopwatch(): () => number {
  const cpu = cpuMs(),
    wall = performance.now();
  return () => (Number.isFinite(cpu) ? cpuMs() - cpu : performance.now() - wall);
}

/** Waits until the backend has finished the queued work (a one-element readback). */
export async function sync(t: tf.Tensor): Promise<void> {
  // A one-element gather, not a slice: wasm's Slice copies its whole input first.
  const one = tf.tidy(() => tf.gather(t.reshape([-1]), tf.tensor1d([0], 'int32')));
  await one.data();
  one.dispose();
}

export async function compareMethods(o: CompareOptions): Promise<ShapeResult> {
  const methods: MethodResult[] = [];
  for (const name of METHODS) {
    const { prepared, shape, release } = await prepareOn(name, o.config, o.seed, o.loraRank);
    const trainer = new Trainer(
      prepared,
      o.config,
      randomFeed(o.config.vocabSize, o.batchSize, o.seqLen, o.seed),
      trainConfig({ steps: o.warmup + o.timed + 1, lr: 1e-4, schedule: 'constant', batchSize: o.batchSize }),
      [],
      { profileMemory: 'never' },
    );
    const cpuTimes: number[] = [];
    const step = async (): Promise<number> => {
      const start = performance.now(),
        cpuStart = cpuMs();
      await trainer.step();
      await sync(prepared.trainable[0]);
      cpuTimes.push(cpuMs() - cpuStart);
      return performance.now() - start;
    };
    for (let i = 0; i < o.warmup; i++) await step();
    cpuTimes.length = 0;
    const times: number[] = [];
    for (let i = 0; i < o.timed; i++) times.push(await step());
    const stepCpuMs = median(cpuTimes);
    const timingBackend = tf.getBackend();
    if (o.memoryBackend) await tf.setBackend(o.memoryBackend);
    let memory: { peakBytes: number; stepPeakBytes: number };
    if (o.onProfile) {
      // The same accounting as measureStepPeakBytes, keeping tf.profile's kernel list for PROFILE.md.
      const { value: info, ...measured } = await measurePeakBytes(() =>
        tf.profile(async () => {
          await step();
        }),
      );
      memory = measured;
      o.onProfile(name, info);
    } else {
      memory = await measureStepPeakBytes(async () => {
        await step();
      });
    }
    if (o.memoryBackend) await tf.setBackend(timingBackend);
    const stepMs = median(times);
    const flops = stepFlops(o.config, o.batchSize, o.seqLen, shape);
    // FLOP/s on the same clock as the matmul reference: CPU time where measured (see stepClock).
    const flopsPerSec = flops / ((Number.isFinite(stepCpuMs) ? stepCpuMs : stepMs) / 1000);
    const result: MethodResult = {
      method: name,
      trainableParams: prepared.stats().trainableParams,
      stepMs,
      stepMsAll: times,
      stepCpuMs,
      tokensPerSec: (o.batchSize * o.seqLen) / (stepMs / 1000),
      peakBytes: memory.peakBytes,
      stepPeakBytes: memory.stepPeakBytes,
      stepFlops: flops,
      flopsPerSec,
      matmulFraction: flopsPerSec / o.matmulFlopsPerSec,
    };
    o.log?.(
      `  ${o.shape} ${name.padEnd(4)}  params ${result.trainableParams}  step ${stepMs.toFixed(0)} ms (cpu ${stepCpuMs.toFixed(0)} ms)  peak ${(result.peakBytes / 2 ** 20).toFixed(1)} MiB  ${(result.flopsPerSec / 1e9).toFixed(2)} GFLOP/s`,
    );
    methods.push(result);
    trainer.dispose();
    release();
  }
  return { shape: o.shape, description: o.description, batchSize: o.batchSize, seqLen: o.seqLen, methods };
}

/**
 * FLOP/s of an n×n·n×n matmul on the active backend (median of `repeats` after one warm-up), on
 * process CPU time where it is measured (Node), else wall time.
 */
export async function matmulFlopsPerSec(n = 1024, repeats = 3): Promise<number> {
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
  const once = async (): Promise<number> => {
    const start = performance.now(),
      cpuStart = cpuMs();
    const c = tf.matMul(a, b);
    await sync(c);
    const wall = performance.now() - start,
      cpu = cpuMs() - cpuStart;
    c.dispose();
    return Number.isFinite(cpu) ? cpu : wall;
  };
  await once();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) times.push(await once());
  tf.dispose([a, b]);
  return (2 * n ** 3) / (median(times) / 1000);
}
