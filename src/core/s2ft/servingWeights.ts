/**
 * Switching S²FT adapters for serving (paper §6) by writing only the elements they touch. The
 * serving weights are the base model's linears, with private copies of the modules the current
 * adapters touch. A switch from adapters `from` to adapters `to` rewrites, per module,
 *   W[:, J_from ∖ J_to] = B[:, J_from ∖ J_to]          restore the previous adapters' columns
 *   W[:, J_to]          = B[:, J_to] + Σ_k w_k · S_k    write the new ones     (rows likewise)
 * in the copies' own memory on the cpu and wasm backends: (|J_from| + |J_to|)·out element writes,
 * no pass over W, no new tensor. Restoring from the base instead of subtracting S_from costs the
 * same and keeps W bitwise equal to fuseAdapters(base, to) after any number of switches: no
 * rounding drift.
 *
 * WebGL and WebGPU keep tensors on the device, where tfjs cannot write them in place: there a
 * switched module becomes fuseAdapters' B + update (by gather, no scatterND; see
 * touchedElements.ts) and its previous copy is freed. Modules the new adapters leave alone go
 * back to the base tensor itself, and their copies are freed.
 *
 * Ownership: the base weights are only read, never written or disposed. Every copy is made here
 * (ownedCopy: data no other tensor or array holds) and is written in place only while the
 * backend counts a single reference to its data; a copy someone cloned meanwhile (tf.clone
 * shares the data on cpu) is replaced by a fresh one instead. `weights` is valid until the next
 * switchTo or dispose: keep no linear tensor of it beyond that.
 */
import type * as tf from '@tensorflow/tfjs';
import type { LlamaWeights } from '../model/types';
import { combineUpdates, type ModuleUpdate, type WeightedAdapter } from './fuse';
import { hostValues, ownsData, withUpdate, writeTouched } from './touchedElements';

const key = (u: ModuleUpdate): string => `${u.layer}.${u.module}`;

export class ServingWeights {
  /** Private copies of the touched linears, by "layer.module". */
  private readonly copies = new Map<string, tf.Tensor2D>();
  /** What is written into the copies now: the combined update of the current adapters. */
  private current = new Map<string, ModuleUpdate>();
  private served: LlamaWeights;

  constructor(readonly base: LlamaWeights) {
    this.served = base;
  }

  /** The weights to run: the base's tensors, and the private copies where adapters are fused. */
  get weights(): LlamaWeights {
    return this.served;
  }

  /**
   * Serves base + Σ_k w_k · S_k from now on ([] serves the base). Every block is checked against
   * the base (UserError 'shape-mismatch') before anything is written.
   */
  switchTo(adapters: WeightedAdapter[]): void {
    const next = new Map(combineUpdates(this.base, adapters).map((u) => [key(u), u]));
    for (const k of this.current.keys()) {
      if (!next.has(k)) {
        this.copies.get(k)!.dispose();
        this.copies.delete(k);
      }
    }
    for (const [k, u] of next) this.copies.set(k, this.rewrite(u, this.current.get(k)));
    this.current = next;
    const layers = this.base.layers.map((layer, i) => {
      const linear = { ...layer.linear };
      for (const u of next.values()) if (u.layer === i) linear[u.module] = this.copies.get(key(u))!;
      return { ...layer, linear };
    });
    this.served = { ...this.base, layers };
  }

  /** Frees the copies; the base weights stay as they are. */
  dispose(): void {
    for (const W of this.copies.values()) W.dispose();
    this.copies.clear();
    this.current.clear();
    this.served = this.base;
  }

  /** The module's copy holding B + u.update, written in place where the copy's memory allows. */
  private rewrite(u: ModuleUpdate, previous: ModuleUpdate | undefined): tf.Tensor2D {
    const B = this.base.layers[u.layer].linear[u.module]; // [out, in]
    const W = this.copies.get(key(u));
    const w = W !== undefined && ownsData(W) ? hostValues(W) : null; // wasm views: no allocation
    const b = hostValues(B); // until the writes are done
    if (W === undefined || w === null || b === null) {
      W?.dispose();
      return withUpdate(B, u.axis, u.indices, u.update);
    }
    const inDim = B.shape[1];
    if (previous) {
      const rewritten = new Set(previous.axis === u.axis ? u.indices : []);
      writeTouched(
        w,
        b,
        inDim,
        previous.axis,
        previous.indices.filter((j) => !rewritten.has(j)),
        null,
      );
    }
    writeTouched(w, b, inDim, u.axis, u.indices, u.update);
    return W;
  }
}
