/**
 * The co-permutation of paper §3.1–3.2: reorder the units of each coupled structure so that the
 * selected ones come first, making the trainable part one contiguous dense block.
 *   attention: q/k/v output rows (by head) ↔ o_proj input columns (by head)
 *   FFN:       gate/up output rows (by channel) ↔ down_proj input columns (by channel)
 * Permuting a producer's outputs and its consumer's inputs with the same order leaves the block's
 * output unchanged (the invariant copermute.test.ts checks). The residual stream is never permuted.
 *
 * Training never needs this (it gathers by index, sparseLinear.ts); it exists so the UI can draw
 * the permuted view and so the invariant can be shown. Under grouped-query attention moving a
 * query head would change which key/value head it reads, so applying it is refused there.
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors';
import type { LayerWeights, LlamaWeights, ModelConfig, ModuleName } from '../model/types';
import {
  headColumns,
  originalChannel,
  originalHead,
  permutedChannel,
  permutedHead,
  type OriginalChannel,
  type OriginalHead,
  type PermutedChannel,
  type PermutedHead,
} from './indices';
import type { LayerSelection, Selection } from './types';

export interface CoPermutation {
  headOrder: OriginalHead[]; // [H] position p → the original head placed there
  headPosition: PermutedHead[]; // [H] original head h → its position (inverse of headOrder)
  channelOrder: OriginalChannel[]; // [F] position p → original channel
  channelPosition: PermutedChannel[]; // [F] original channel c → its position
}

/** Selected units first (ascending), then the others (ascending). */
export function coPermutation(config: ModelConfig, layer: LayerSelection): CoPermutation {
  const headOrder = frontFirst(config.numHeads, layer.heads).map(originalHead);
  const channelOrder = frontFirst(config.intermediateSize, layer.channels).map(originalChannel);
  return {
    headOrder,
    headPosition: inverse(headOrder).map(permutedHead),
    channelOrder,
    channelPosition: inverse(channelOrder).map(permutedChannel),
  };
}

/** The model with every layer's selected heads and channels moved to the front (MHA only). */
export function applyCoPermutation(weights: LlamaWeights, config: ModelConfig, selection: Selection): LlamaWeights {
  return permuteModel(weights, config, selection, (p) => ({ heads: p.headOrder, channels: p.channelOrder }));
}

/** Undo applyCoPermutation: permuted weights back to the checkpoint's original order. */
export function invertCoPermutation(permuted: LlamaWeights, config: ModelConfig, selection: Selection): LlamaWeights {
  return permuteModel(permuted, config, selection, (p) => ({ heads: p.headPosition, channels: p.channelPosition }));
}

/**
 * New weights whose unit at position p is the input's unit `gatherFrom[p]`. Every tensor of the
 * result is a new handle (untouched ones are cheap clones sharing data), so the caller can
 * dispose the result as a whole.
 */
function permuteModel(
  weights: LlamaWeights,
  config: ModelConfig,
  selection: Selection,
  gatherFrom: (p: CoPermutation) => { heads: number[]; channels: number[] },
): LlamaWeights {
  if (config.numKvHeads !== config.numHeads)
    throw new UserError(
      'unsupported',
      `co-permutation needs multi-head attention, but this model has ${config.numHeads} query heads sharing ` +
        `${config.numKvHeads} key/value heads: moving a query head would change which key/value head it reads. ` +
        'Training does not need it (S²FT gathers the selected heads by index).',
    );
  if (selection.layers.length !== weights.layers.length)
    throw new UserError(
      'wrong-model',
      `selection has ${selection.layers.length} layers but the model has ${weights.layers.length}`,
    );
  return {
    embedTokens: weights.embedTokens.map((t) => t.clone()),
    layers: weights.layers.map((layer, i) => {
      const { heads, channels } = gatherFrom(coPermutation(config, selection.layers[i]));
      return permuteLayer(layer, config, heads, channels);
    }),
    norm: weights.norm.clone(),
    lmHead: weights.lmHead ? weights.lmHead.map((t) => t.clone()) : null,
  };
}

function permuteLayer(layer: LayerWeights, config: ModelConfig, heads: number[], channels: number[]): LayerWeights {
  const headIdx = tf.tensor1d(headColumns(heads, config.headDim), 'int32'); // [H·hd] rows/columns in new order
  const chanIdx = tf.tensor1d(channels, 'int32'); // [F]
  const rows = (w: tf.Tensor2D, idx: tf.Tensor1D) => tf.gather(w, idx, 0) as tf.Tensor2D; // [out, in] rows reordered
  const cols = (w: tf.Tensor2D, idx: tf.Tensor1D) => tf.gather(w, idx, 1) as tf.Tensor2D; // [out, in] columns reordered
  const L = layer.linear;
  const linear: Record<ModuleName, tf.Tensor2D> = {
    q_proj: rows(L.q_proj, headIdx),
    k_proj: rows(L.k_proj, headIdx),
    v_proj: rows(L.v_proj, headIdx),
    o_proj: cols(L.o_proj, headIdx),
    gate_proj: rows(L.gate_proj, chanIdx),
    up_proj: rows(L.up_proj, chanIdx),
    down_proj: cols(L.down_proj, chanIdx),
  };
  const bias: LayerWeights['bias'] = {};
  for (const [m, b] of Object.entries(layer.bias) as [ModuleName, tf.Tensor1D][]) {
    // Output biases follow their rows; o_proj / down_proj biases live on the residual stream and stay.
    const idx =
      m === 'q_proj' || m === 'k_proj' || m === 'v_proj'
        ? headIdx
        : m === 'gate_proj' || m === 'up_proj'
          ? chanIdx
          : null;
    bias[m] = idx ? (tf.gather(b, idx) as tf.Tensor1D) : b.clone();
  }
  headIdx.dispose();
  chanIdx.dispose();
  return {
    inputLayernorm: layer.inputLayernorm.clone(),
    postAttentionLayernorm: layer.postAttentionLayernorm.clone(),
    linear,
    bias,
    // q_norm / k_norm act within each head, one weight shared by all heads: permuting heads leaves them as they are.
    norms: Object.fromEntries(Object.entries(layer.norms ?? {}).map(([name, norm]) => [name, norm.clone()])),
  };
}

function frontFirst(n: number, selected: readonly number[]): number[] {
  const chosen = new Set(selected);
  const front = [...chosen].sort((a, b) => a - b);
  const rest = Array.from({ length: n }, (_, i) => i).filter((i) => !chosen.has(i));
  return [...front, ...rest];
}

function inverse(order: readonly number[]): number[] {
  const inv = new Array<number>(order.length);
  order.forEach((original, position) => {
    inv[original] = position;
  });
  return inv;
}
