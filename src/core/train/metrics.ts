/**
 * What the trainer reports: per update, per evaluation, and for the whole run. Plain objects (they cross the worker
 * boundary).
 */
import { IGNORE_INDEX, type Batch } from './batch';

export interface StepMetrics {
  /** Updates done, 1-based (the first update reports step 1). */
  step: number;
  /** Mean next-token cross-entropy over every counted position of the step's (effective) batch. */
  loss: number;
  /** Learning rate this update used. */
  lr: number;
  /** Global L2 norm of the gradient before clipping. */
  gradNorm: number;
  /** Input positions processed this step (B · T · micro-batches, padding included). */
  tokens: number;
  /** Positions that counted in the loss this step. */
  targetTokens: number;
  tokensPerSec: number;
  /** Wall time of this step. */
  stepMs: number;
  /** Wall time since the trainer's first step. */
  elapsedMs: number;
  /** Tensor bytes held after the step (tf.memory().numBytes): weights, trainable copies, optimizer state. */
  bytesInUse: number;
  /**
   * Highest tensor bytes seen inside the measured steps so far (distinct buffers, memory.ts), including what was
   * held before them; null until a step has been measured (profileMemory 'never').
   */
  peakBytes: number | null;
}

export interface EvalMetrics {
  /** The update count when the evaluation ran (0 = before training). */
  step: number;
  /** Mean next-token cross-entropy over every counted position of the validation batches. */
  loss: number;
  perplexity: number;
  targetTokens: number;
}

/** Positions of a batch whose label counts in the loss. */
export function countTargets(batch: Batch): number {
  let n = 0;
  for (const label of batch.labels) if (label !== IGNORE_INDEX) n++;
  return n;
}
