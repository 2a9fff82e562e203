/**
 * Applying S²FT adapters to a base model (paper §6):
 *   fuse      W[:, J] += Σ_k w_k · S_k   (rows: W[I, :] += Σ_k w_k · S_k)
 *   unfuse    W[:, J] −= w · S
 *   switch    unfuse one adapter and fuse another in one pass
 *   parallel  y = x Wᵀ + gather(x, J_i) S_iᵀ for the requests that use adapter i
 *
 * Ownership: fuse/unfuse/switch never modify or dispose their input. They return new
 * LlamaWeights in which every modified linear weight is a NEW tensor and everything else is the
 * SAME tensor object as in the input. When the old weights are no longer needed, call
 * `releaseReplacedWeights(old, fused)` to free exactly the tensors that were replaced.
 * (Serving that switches often writes private copies in place instead: servingWeights.ts.)
 *
 * Cost: the update of a module is summed on the CPU over all adapters (the deltas are plain
 * Float32Arrays), then written once into a new tensor (touchedElements.ts: a copy of W plus
 * |J|·out element writes on cpu/wasm, a gather on the GPU backends). tfjs tensors are
 * immutable, so producing the new W is one pass over out·in elements whatever we do; beyond that
 * pass the work is ∝ |J|·hidden, where a LoRA switch pays the out·in·r product B·A.
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors';
import { defaultLinear } from '../model/llama';
import type { LinearFn, LinearSite, LlamaWeights, ModuleName } from '../model/types';
import { withUpdate } from './touchedElements';
import type { AdapterBlock, BlockAxis } from './types';

/**
 * A block any linear can take: S²FT's own (AdapterBlock) or a LoRA update written as the block of
 * all its columns (peft/loraAdapter.ts).
 */
export type FuseBlock = Omit<AdapterBlock, 'module'> & { module: ModuleName };

/** Anything that carries blocks (a decoded S2ftAdapter, blocks just trained, a LoRA adapter's updates). */
export interface HasBlocks {
  blocks: FuseBlock[];
}

export interface WeightedAdapter {
  adapter: HasBlocks;
  weight: number;
}

/** One module's combined update over the union of the adapters' indices (may be a block's own arrays: read only). */
export interface ModuleUpdate {
  layer: number;
  module: ModuleName;
  axis: BlockAxis;
  indices: Int32Array; // [k] sorted union of the adapters' indices
  update: Float32Array; // [out, k] for columns, [k, in] for rows
}

/**
 * Σ_k w_k · S_k per module, accumulated in float64 over the union of index sets. Checks every
 * block against the weights (UserError 'shape-mismatch') before anything is computed.
 */
export function combineUpdates(weights: LlamaWeights, adapters: WeightedAdapter[]): ModuleUpdate[] {
  const byModule = new Map<
    string,
    { layer: number; module: ModuleName; axis: BlockAxis; parts: { block: FuseBlock; weight: number }[] }
  >();
  for (const { adapter, weight } of adapters) {
    for (const block of adapter.blocks) {
      const key = `${block.layer}.${block.module}`;
      const entry = byModule.get(key) ?? { layer: block.layer, module: block.module, axis: block.axis, parts: [] };
      if (entry.axis !== block.axis)
        throw new Error(`${block.module} of layer ${block.layer} appears both as columns and as rows`);
      entry.parts.push({ block, weight });
      byModule.set(key, entry);
    }
  }
  const updates: ModuleUpdate[] = [];
  for (const { layer, module, axis, parts } of byModule.values()) {
    const W = weights.layers[layer]?.linear[module];
    if (!W)
      throw new UserError(
        'shape-mismatch',
        `adapter touches layer ${layer}, the model has ${weights.layers.length} layers`,
      );
    const [out, inDim] = W.shape;
    for (const { block } of parts) checkBlockFits(block, out, inDim);
    if (parts.length === 1 && isIncreasing(parts[0].block.indices)) {
      // One block on sorted indices is its own sum: w·S rounded once, as the float64 sum would be.
      const { block, weight } = parts[0];
      updates.push({
        layer,
        module,
        axis,
        indices: block.indices,
        update: weight === 1 ? block.delta : block.delta.map((v) => weight * v),
      });
      continue;
    }
    const indices = Int32Array.from(new Set(parts.flatMap(({ block }) => Array.from(block.indices)))).sort();
    const position = new Map(Array.from(indices, (j, p) => [j, p]));
    const k = indices.length;
    const acc = new Float64Array(axis === 'columns' ? out * k : k * inDim); // [out, k] | [k, in]
    for (const { block, weight } of parts) {
      const [rows, cols] = block.shape;
      const slot = Array.from(block.indices, (j) => position.get(j)!); // block index → union position
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          const v = weight * block.delta[r * cols + c];
          if (axis === 'columns')
            acc[r * k + slot[c]] += v; // delta [out, kb]
          else acc[slot[r] * inDim + c] += v; // delta [kb, in]
        }
      }
    }
    updates.push({ layer, module, axis, indices, update: new Float32Array(acc) });
  }
  return updates;
}

function isIncreasing(indices: Int32Array): boolean {
  for (let i = 1; i < indices.length; i++) if (indices[i] <= indices[i - 1]) return false;
  return true;
}

function checkBlockFits(block: FuseBlock, out: number, inDim: number): void {
  const k = block.indices.length;
  const [expectRows, expectCols] = block.axis === 'columns' ? [out, k] : [k, inDim];
  const limit = block.axis === 'columns' ? inDim : out;
  const where = `layer ${block.layer} ${block.module}`;
  if (
    block.shape[0] !== expectRows ||
    block.shape[1] !== expectCols ||
    block.delta.length !== expectRows * expectCols
  ) {
    throw new UserError(
      'shape-mismatch',
      `${where}: adapter block is [${block.shape}], the model needs [${expectRows}, ${expectCols}]`,
    );
  }
  for (const j of block.indices) {
    if (j < 0 || j >= limit)
      throw new UserError('shape-mismatch', `${where}: index ${j} is outside the model's ${limit} ${block.axis}`);
  }
}

function applyUpdates(weights: LlamaWeights, updates: ModuleUpdate[]): LlamaWeights {
  const layers = weights.layers.map((layer) => ({ ...layer, linear: { ...layer.linear } }));
  for (const u of updates) {
    const linear = layers[u.layer].linear;
    linear[u.module] = withUpdate(linear[u.module], u.axis, u.indices, u.update);
  }
  return { ...weights, layers };
}

/** W[:, J] += Σ_k w_k · S_k for every module any adapter touches. Input weights are untouched. */
export function fuseAdapters(weights: LlamaWeights, adapters: WeightedAdapter[]): LlamaWeights {
  return applyUpdates(weights, combineUpdates(weights, adapters));
}

/** Removes `weight` × an adapter that was fused earlier (W[:, J] −= w · S). */
export function unfuseAdapter(weights: LlamaWeights, adapter: HasBlocks, weight = 1): LlamaWeights {
  return fuseAdapters(weights, [{ adapter, weight: -weight }]);
}

/** Unfuses `from` and fuses `to` in one write per module: cost ∝ |J_from ∪ J_to|·hidden beyond the copy. */
export function switchAdapter(weights: LlamaWeights, from: HasBlocks, to: HasBlocks): LlamaWeights {
  return fuseAdapters(weights, [
    { adapter: from, weight: -1 },
    { adapter: to, weight: 1 },
  ]);
}

/** Disposes the linear weights of `before` that `after` replaced (and nothing `after` still uses). */
export function releaseReplacedWeights(before: LlamaWeights, after: LlamaWeights): void {
  before.layers.forEach((layer, i) => {
    for (const [module, W] of Object.entries(layer.linear)) {
      if (after.layers[i].linear[module as keyof typeof layer.linear] !== W) W.dispose();
    }
  });
}

/** One adapter block as tensors, ready for the parallel-serving linear. */
interface ServingBlock {
  adapter: number;
  axis: BlockAxis;
  indices: tf.Tensor1D; // [k] int32
  hostIndices: Int32Array; // the same indices, for building scatter coordinates
  delta: tf.Tensor2D; // [out, k] columns, [k, in] rows
  k: number;
}

export interface MultiAdapterServing {
  /** The LinearFn to pass to forward(): base linear plus each request's own adapter. */
  linear: LinearFn;
  /** Frees the adapters' tensors (never the base weights). */
  dispose(): void;
}

/**
 * Serves several adapters on one unfused base in a single batch (paper §6, parallel serving).
 * `requestAdapter[b]` is the adapter index of batch row b, or −1 for the plain base model.
 * Every linear computes y = base(x) and, for the rows of requests using adapter i,
 *   columns: y[rows_i] += gather(x[rows_i], J_i) S_iᵀ          ([n_i, k] · [k, out])
 *   rows:    y[rows_i, I_i] += x[rows_i] S_iᵀ                   ([n_i, in] · [in, k])
 * so each request pays only for its own |J_i|, and the base weights are shared.
 */
export function multiAdapterLinear(
  adapters: HasBlocks[],
  requestAdapter: ArrayLike<number>,
  base: LinearFn = defaultLinear,
): MultiAdapterServing {
  const B = requestAdapter.length;
  for (const a of Array.from(requestAdapter)) {
    if (!Number.isInteger(a) || a < -1 || a >= adapters.length)
      throw new Error(`request adapter ${a} is not -1 or an index below ${adapters.length}`);
  }
  const bySite = new Map<string, ServingBlock[]>();
  adapters.forEach((adapter, i) => {
    for (const b of adapter.blocks) {
      const key = `${b.layer}.${b.module}`;
      const list = bySite.get(key) ?? [];
      list.push({
        adapter: i,
        axis: b.axis,
        k: b.indices.length,
        indices: tf.tensor1d(b.indices, 'int32'),
        hostIndices: b.indices,
        delta: tf.tensor2d(b.delta, b.shape),
      });
      bySite.set(key, list);
    }
  });
  // Batch rows (b·T … b·T + T − 1) of the flattened [N = B·T, in] input that use adapter i.
  const rowsOf = (adapter: number, N: number): number[] => {
    if (N % B !== 0) throw new Error(`linear input has ${N} rows, not a multiple of the ${B} requests`);
    const T = N / B;
    const rows: number[] = [];
    for (let b = 0; b < B; b++) if (requestAdapter[b] === adapter) for (let t = 0; t < T; t++) rows.push(b * T + t);
    return rows;
  };

  const linear: LinearFn = (x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D | null, site: LinearSite) => {
    let y = base(x, weight, bias, site); // [N, out]
    const blocks = bySite.get(`${site.layer}.${site.module}`);
    if (!blocks) return y;
    const [N, out] = y.shape;
    for (const blk of blocks) {
      const rows = rowsOf(blk.adapter, N);
      if (rows.length === 0) continue;
      const n = rows.length;
      const rowIdx = tf.tensor1d(rows, 'int32'); // [n]
      const xi = tf.gather(x, rowIdx); // [n, in]
      if (blk.axis === 'columns') {
        const upd = tf.matMul(tf.gather(xi, blk.indices, 1), blk.delta, false, true); // [n, out]
        y = tf.add(y, tf.scatterND(rowIdx.reshape([n, 1]), upd, [N, out])); // [N, out]
      } else {
        const upd = tf.matMul(xi, blk.delta, false, true); // [n, k]
        const coords = new Int32Array(n * blk.k * 2);
        const idx = blk.hostIndices;
        for (let r = 0; r < n; r++) {
          for (let j = 0; j < blk.k; j++) {
            coords[2 * (r * blk.k + j)] = rows[r];
            coords[2 * (r * blk.k + j) + 1] = idx[j];
          }
        }
        const at = tf.tensor2d(coords, [n * blk.k, 2], 'int32'); // [n·k, 2]
        y = tf.add(y, tf.scatterND(at, upd.reshape([n * blk.k]), [N, out])); // [N, out]
      }
    }
    return y;
  };

  return {
    linear,
    dispose() {
      for (const list of bySite.values())
        for (const blk of list) {
          blk.indices.dispose();
          blk.delta.dispose();
        }
    },
  };
}
