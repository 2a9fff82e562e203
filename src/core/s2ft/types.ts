/**
 * S²FT's vocabulary: which units are selected, and the learned update as (indices, dense block).
 * Indices are always in the ORIGINAL (un-permuted) coordinates of the checkpoint.
 */

/** Per-layer selection, as in the JSON selection file (ARCHITECTURE.md "File formats"). */
export interface LayerSelection {
  /** Attention heads whose o_proj columns are trained (head h owns columns h·hd … (h+1)·hd − 1). */
  heads: number[];
  /** FFN channels whose down_proj columns are trained. */
  channels: number[];
  /** Optional row blocks: v_proj output rows (kv-head units of hd rows) and up_proj output rows. */
  vHeads?: number[];
  upChannels?: number[];
}

export interface Selection {
  layers: LayerSelection[];
}

/** The modules S²FT trains, and along which axis of the HF `[out, in]` weight. */
export type BlockModule = 'o_proj' | 'down_proj' | 'v_proj' | 'up_proj';
export type BlockAxis = 'columns' | 'rows';

/**
 * One trained dense block of one module:
 *   columns: W_new[:, indices[j]] = W_base[:, indices[j]] + delta[:, j]   delta: [out, k]
 *   rows:    W_new[indices[j], :] = W_base[indices[j], :] + delta[j, :]   delta: [k, in]
 */
export interface AdapterBlock {
  layer: number;
  module: BlockModule;
  axis: BlockAxis;
  indices: Int32Array; // [k], original coordinates
  delta: Float32Array; // row-major, shape below
  shape: [number, number]; // [out, k] for columns, [k, in] for rows
}
