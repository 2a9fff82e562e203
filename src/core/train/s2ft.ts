/**
 * S²FT as a PreparedMethod: one zero-initialised dense block per trained (layer, module), and a
 * linear that runs the partial-backprop pairs of ../s2ft/sparseLinear.ts —
 *   o_proj / down_proj with a selection → columnBlockLinear (saves only x[:, J])
 *   v_proj / up_proj with a selection   → rowBlockLinear
 *   every other linear                  → frozenLinear (saves nothing, no dW)
 * Units are gathered by index in original coordinates; q/k/v are never permuted physically,
 * so grouped-query attention needs nothing special (head h owns o_proj columns h·hd…(h+1)·hd−1
 * whatever kv head it reads).
 */
import * as tf from '@tensorflow/tfjs';
import type { LinearFn, LlamaModel, ModelConfig } from '../model/types';
import { headColumns } from '../s2ft/indices';
import { frozenLinear } from '../model/linear';
import { columnBlockLinear, makeBlockIndex, rowBlockLinear, type BlockIndex } from '../s2ft/sparseLinear';
import type { AdapterBlock, BlockAxis, BlockModule, LayerSelection, Selection } from '../s2ft/types';
import type { MethodStats, PreparedMethod } from './method';

/** One trained block: its place in the model, its indices and its trainable delta. */
interface TrainedBlock {
  layer: number;
  module: BlockModule;
  axis: BlockAxis;
  indices: Int32Array; // [k] original coordinates, ascending
  index: BlockIndex; // the same, as tensors for gather / scatter
  delta: tf.Variable; // [out, k] (columns) or [k, in] (rows), starts at zero
}

export interface PreparedS2ft extends PreparedMethod {
  /** The current deltas read back, in original coordinates. */
  blocks(): Promise<AdapterBlock[]>;
}

/** Ready S²FT training of `selection` on a frozen base model. */
export function prepareS2ft(model: LlamaModel, selection: Selection): PreparedS2ft {
  const { config, weights } = model;
  const trained = new Map<string, TrainedBlock>();
  selection.layers.forEach((layerSel, layer) => {
    for (const spec of blockSpecs(config, layerSel)) {
      if (spec.indices.length === 0) continue;
      const [out, inDim] = weights.layers[layer].linear[spec.module].shape; // [out, in]
      const k = spec.indices.length;
      const shape: [number, number] = spec.axis === 'columns' ? [out, k] : [k, inDim];
      trained.set(siteKey(layer, spec.module), {
        layer,
        module: spec.module,
        axis: spec.axis,
        indices: spec.indices,
        index: makeBlockIndex(spec.indices, spec.axis === 'columns' ? inDim : out),
        delta: tf.tidy(() => tf.variable(tf.zeros(shape), true)), // [out, k] or [k, in]
      });
    }
  });
  const list = [...trained.values()];

  const linear: LinearFn = (x, weight, bias, site) => {
    const block = trained.get(siteKey(site.layer, site.module));
    if (!block) return frozenLinear(x, weight, bias);
    return block.axis === 'columns'
      ? columnBlockLinear(x, weight, bias, block.delta, block.index)
      : rowBlockLinear(x, weight, bias, block.delta, block.index);
  };

  const stats = (): MethodStats => {
    const params = list.reduce((sum, b) => sum + b.delta.size, 0);
    return { trainableParams: params, trainableBytes: 4 * params };
  };

  return {
    name: 's2ft',
    trainable: list.map((b) => b.delta),
    weights,
    linear,
    stats,
    // Async read-back: a synchronous one from a WebGPU worker loses the device.
    blocks: () =>
      Promise.all(
        list.map(async (b) => ({
          layer: b.layer,
          module: b.module,
          axis: b.axis,
          indices: b.indices.slice(),
          delta: Float32Array.from(await b.delta.data()),
          shape: b.delta.shape as [number, number],
        })),
      ),
    dispose: () =>
      list.forEach((b) => {
        b.delta.dispose();
        b.index.dispose();
      }),
  };
}

/** Which indices of which module a layer's selection trains. */
function blockSpecs(
  config: ModelConfig,
  sel: LayerSelection,
): { module: BlockModule; axis: BlockAxis; indices: Int32Array }[] {
  const hd = config.headDim;
  const asc = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);
  return [
    { module: 'o_proj', axis: 'columns', indices: headColumns(asc(sel.heads), hd) },
    { module: 'down_proj', axis: 'columns', indices: Int32Array.from(asc(sel.channels)) },
    { module: 'v_proj', axis: 'rows', indices: headColumns(asc(sel.vHeads ?? []), hd) },
    { module: 'up_proj', axis: 'rows', indices: Int32Array.from(asc(sel.upChannels ?? [])) },
  ];
}

const siteKey = (layer: number, module: string): string => `${layer}.${module}`;
