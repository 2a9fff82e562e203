/** A training or evaluation batch as plain arrays (crosses the worker boundary as-is). */
export interface Batch {
  batchSize: number; // B
  seqLen: number; // T
  inputIds: Int32Array; // [B*T] row-major
  /** Target for position t is the token the model should predict after inputIds[t]; -100 = ignored. [B*T] */
  labels: Int32Array;
}

/** Label value for positions that do not count in the loss (HF convention). */
export const IGNORE_INDEX = -100;
