/**
 * Peak tensor memory of one training step: the bytes of the DISTINCT data buffers the tfjs engine
 * holds, sampled whenever a buffer is created. On a given backend and model the count depends
 * only on which tensors exist, not on timing, so it is deterministic and comparable across
 * methods: what S²FT's memory claim is tested with.
 *
 * Why not tf.memory().numBytes (or tf.profile's snapshots, which read it): tfjs adds a tensor's
 * bytes once per tensor HANDLE. A reshape, a tf.clone, and every tensor the tape saves for the
 * backward (the engine keeps a clone of each) share one buffer on cpu, WebGL and WebGPU, yet each
 * is counted again: saving the 16 MiB embedding for lm_head's backward "costs" 16 MiB that is
 * never allocated. (On wasm the clone is a real copy, and is counted as one.)
 */
import * as tf from '@tensorflow/tfjs';

export interface StepMemory {
  /** Buffer bytes held when the step started. */
  startBytes: number;
  /** Highest buffer bytes held at any moment of the step. */
  peakBytes: number;
  /** peakBytes − startBytes: what the step itself adds at its worst moment. */
  stepPeakBytes: number;
  /** Bytes still held after the step beyond startBytes (a step that cleans up leaves 0). */
  retainedBytes: number;
}

/** A buffer created during a measured step and alive at its peak. */
export interface PeakBuffer {
  shape: number[];
  bytes: number;
}

/** The engine internals the count hooks into (tfjs-core 4.x engine.ts; tensorInfo is a WeakMap by data id). */
interface EngineInternals {
  state: { tensorInfo: WeakMap<object, { bytes: number; backend: unknown }> };
  trackTensor(a: { dataId: object; shape: number[] }, backend: unknown): void;
  removeDataId(dataId: object, backend: unknown): void;
}

/**
 * Runs `f` and reports the bytes before, at the peak, and after. The start is tf.memory()'s count
 * (the engine cannot list its buffers; at rest between steps, tensors rarely share one); from
 * there every buffer created or freed during `f` is counted once. `f` must
 * dispose what it creates (or return nothing that it keeps); tensors it keeps on purpose show
 * up as retainedBytes. Measurements may nest.
 */
export async function measurePeakBytes<T>(
  f: () => T | Promise<T>,
  options: { recordPeakBuffers?: boolean } = {},
): Promise<StepMemory & { value: T; peakBuffers: PeakBuffer[]; largestBuffer: PeakBuffer | null }> {
  const engine = tf.engine() as unknown as EngineInternals;
  const { trackTensor, removeDataId } = engine;
  const startBytes = tf.memory().numBytes;
  let held = startBytes;
  let peakBytes = startBytes;
  // With recordPeakBuffers: the buffers created here and still alive, and their list at the peak.
  const live = new Map<object, PeakBuffer>();
  let peakBuffers: PeakBuffer[] = [];
  let largestBuffer: PeakBuffer | null = null; // the largest buffer created during f: what a GPU limit bounds
  engine.trackTensor = function (a, backend) {
    const isNew = !this.state.tensorInfo.has(a.dataId);
    trackTensor.call(this, a, backend);
    if (!isNew) return;
    const bytes = this.state.tensorInfo.get(a.dataId)?.bytes ?? 0;
    held += bytes;
    if (bytes > (largestBuffer?.bytes ?? -1)) largestBuffer = { shape: [...a.shape], bytes };
    if (options.recordPeakBuffers) live.set(a.dataId, { shape: [...a.shape], bytes });
    if (held > peakBytes) {
      peakBytes = held;
      if (options.recordPeakBuffers) peakBuffers = [...live.values()];
    }
  };
  engine.removeDataId = function (dataId, backend) {
    const info = this.state.tensorInfo.get(dataId);
    removeDataId.call(this, dataId, backend);
    if (info && !this.state.tensorInfo.has(dataId)) {
      held -= info.bytes;
      live.delete(dataId);
    }
  };
  let value: T;
  try {
    value = await f();
  } finally {
    engine.trackTensor = trackTensor;
    engine.removeDataId = removeDataId;
  }
  return {
    value,
    startBytes,
    peakBytes,
    stepPeakBytes: peakBytes - startBytes,
    retainedBytes: held - startBytes,
    peakBuffers,
    largestBuffer,
  };
}

/** measurePeakBytes for a step whose result is not needed. */
export async function measureStepPeakBytes(step: () => void | Promise<void>): Promise<StepMemory> {
  const { startBytes, peakBytes, stepPeakBytes, retainedBytes } = await measurePeakBytes(step);
  return { startBytes, peakBytes, stepPeakBytes, retainedBytes };
}
