/**
 * Full fine-tuning as a PreparedMethod: every parameter of the model (embedding shards, norms,
 * every linear weight and bias, lm_head shards) becomes a trainable tf.Variable, the forward
 * runs on those variables, and every linear is `denseLinear`: x Wᵀ + b with its weight gradients,
 * saving x, releasing its gradient once used. This is the baseline S²FT's memory claim is
 * measured against.
 *
 * A tf.Variable made from a tensor starts on the same data buffer; the optimizer's assign()
 * swaps in a new buffer, so the base weights are never changed and cost no copy until the
 * first update.
 */
import * as tf from '@tensorflow/tfjs';
import { denseLinear } from '../model/linear';
import { MODULE_NAMES, type LayerWeights, type LlamaModel, type LlamaWeights, type ModuleName } from '../model/types';
import type { MethodStats, PreparedMethod } from './method';

export interface PreparedFull extends PreparedMethod {
  /** The trained model as new LlamaWeights (snapshots of the variables; the caller disposes them). */
  exportWeights(): LlamaWeights;
}

/** Applies `f` to every tensor of a set of weights, keeping the structure. */
function mapWeights(w: LlamaWeights, f: <R extends tf.Rank>(t: tf.Tensor<R>) => tf.Tensor<R>): LlamaWeights {
  return {
    embedTokens: w.embedTokens.map(f),
    layers: w.layers.map((layer): LayerWeights => {
      const linear = {} as Record<ModuleName, tf.Tensor2D>;
      for (const m of MODULE_NAMES) linear[m] = f(layer.linear[m]);
      const bias: LayerWeights['bias'] = {};
      for (const m of MODULE_NAMES) {
        const b = layer.bias[m];
        if (b) bias[m] = f(b);
      }
      return {
        inputLayernorm: f(layer.inputLayernorm),
        postAttentionLayernorm: f(layer.postAttentionLayernorm),
        linear,
        bias,
        norms: Object.fromEntries(Object.entries(layer.norms ?? {}).map(([name, norm]) => [name, f(norm)])),
      };
    }),
    norm: f(w.norm),
    lmHead: w.lmHead ? w.lmHead.map(f) : null,
  };
}

export function prepareFull(model: LlamaModel): PreparedFull {
  const trainable: tf.Variable[] = [];
  const weights = mapWeights(model.weights, <R extends tf.Rank>(t: tf.Tensor<R>) => {
    const v = tf.variable(t, true);
    trainable.push(v);
    return v;
  });

  const stats = (): MethodStats => {
    const params = trainable.reduce((sum, v) => sum + v.size, 0);
    return { trainableParams: params, trainableBytes: 4 * params };
  };

  return {
    name: 'full',
    trainable,
    weights,
    linear: denseLinear,
    stats,
    exportWeights: () => mapWeights(weights, (t) => tf.clone(t)),
    dispose: () => trainable.forEach((v) => v.dispose()),
  };
}
