/**
 * Peak tensor memory of one training step, measured by tfjs's own byte accounting
 * (tf.profile records the engine's byte count after every kernel). On a given backend and
 * model the count depends only on which tensors exist, not on timing, so it is deterministic
 * and comparable across methods: what S²FT's memory claim is tested with.
 */
import * as tf from '@tensorflow/tfjs';

export interface StepMemory {
  /** Tensor bytes held when the step started. */
  startBytes: number;
  /** Highest tensor bytes held after any kernel of the step. */
  peakBytes: number;
  /** peakBytes − startBytes: what the step itself adds at its worst moment. */
  stepPeakBytes: number;
  /** Bytes still held after the step beyond startBytes (a step that cleans up leaves 0). */
  retainedBytes: number;
}

/**
 * Runs `step` once under tf.profile. `step` must dispose what it creates (or return nothing
 * that it keeps); tensors it keeps on purpose show up as retainedBytes.
 */
export async function measureStepPeakBytes(step: () => void | Promise<void>): Promise<StepMemory> {
  const startBytes = tf.memory().numBytes;
  const info = await tf.profile(async () => { await step(); });
  // A step that ran no kernel (nothing to compute) peaks where it started.
  const peakBytes = Math.max(startBytes, info.peakBytes);
  return { startBytes, peakBytes, stepPeakBytes: peakBytes - startBytes, retainedBytes: info.newBytes };
}
