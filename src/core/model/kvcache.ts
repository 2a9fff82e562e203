/**
 * Key/value cache for generation: each layer keeps the rotated keys and the values of every
 * position seen so far, so a new token attends to the past without recomputing it.
 * The cache owns its tensors (kept outside any tidy); call dispose() when done.
 */
import * as tf from '@tensorflow/tfjs';

export class KVCache {
  private readonly keys: (tf.Tensor4D | null)[];
  private readonly values: (tf.Tensor4D | null)[];

  constructor(numLayers: number) {
    this.keys = new Array<tf.Tensor4D | null>(numLayers).fill(null);
    this.values = new Array<tf.Tensor4D | null>(numLayers).fill(null);
  }

  /** Number of positions cached (read once per forward, before any layer appends). */
  get length(): number {
    return this.keys[0]?.shape[2] ?? 0;
  }

  /**
   * Append this step's keys and values for one layer and return everything cached for it.
   *   k, v: [B, Hkv, T, hd]  →  [B, Hkv, past + T, hd]
   */
  append(layer: number, k: tf.Tensor4D, v: tf.Tensor4D): { k: tf.Tensor4D; v: tf.Tensor4D } {
    const oldK = this.keys[layer];
    const oldV = this.values[layer];
    const newK = tf.keep(oldK ? tf.concat([oldK, k], 2) : k.clone()); // [B, Hkv, past+T, hd]
    const newV = tf.keep(oldV ? tf.concat([oldV, v], 2) : v.clone()); // [B, Hkv, past+T, hd]
    oldK?.dispose();
    oldV?.dispose();
    this.keys[layer] = newK;
    this.values[layer] = newV;
    return { k: newK, v: newV };
  }

  dispose(): void {
    for (let i = 0; i < this.keys.length; i++) {
      this.keys[i]?.dispose();
      this.values[i]?.dispose();
      this.keys[i] = null;
      this.values[i] = null;
    }
  }
}
