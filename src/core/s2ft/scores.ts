/**
 * Importance scores of every attention head and FFN channel, for the non-random selection
 * strategies (paper §3.2, App. D) and the UI heatmaps. A unit's score is always measured on the
 * weights S²FT would train for it, or on the activations/gradients that flow through them:
 *   head h    → o_proj columns h·hd … (h+1)·hd − 1 (its whole column block)
 *   channel c → down_proj column c
 * because those columns are where the unit's update lives: a large weight norm means the unit
 * already carries much of the output, a large activation norm means it is much used on the
 * calibration data, a large gradient means the loss wants to move exactly that block.
 * (The optional v/up rows follow the same units and are not scored separately.)
 */
import * as tf from '@tensorflow/tfjs';
import { defaultLinear, forward } from '../model/llama';
import type { LinearFn, LlamaModel } from '../model/types';
import type { Batch } from '../train/batch';
import { causalLmLoss } from '../train/loss';

/** scores.heads[layer][head], scores.channels[layer][channel]; larger = more of the measured quantity. */
export interface UnitScores {
  heads: number[][];
  channels: number[][];
}

/** S²FT-W: Frobenius norm of each head's o_proj column block, L2 norm of each down_proj column. */
export async function weightScores(model: LlamaModel): Promise<UnitScores> {
  const { weights } = model;
  const oSq = await Promise.all(weights.layers.map((l) => columnSumSquares(l.linear.o_proj))); // [L][H·hd]
  const dSq = await Promise.all(weights.layers.map((l) => columnSumSquares(l.linear.down_proj))); // [L][F]
  return fromColumnSquares(model, oSq, dSq);
}

/**
 * S²FT-A: norm over all calibration tokens of each unit's input to its trained columns:
 * head h → its attention output slice (o_proj input columns of h); channel c → silu(gate)·up at c
 * (down_proj input column c). Forward only: a recording linear sees o_proj and down_proj inputs.
 */
export async function activationScores(model: LlamaModel, calibration: readonly Batch[]): Promise<UnitScores> {
  const L = model.config.numLayers;
  const oSq: tf.Tensor1D[][] = Array.from({ length: L }, () => []);
  const dSq: tf.Tensor1D[][] = Array.from({ length: L }, () => []);
  const recording: LinearFn = (x, weight, bias, site) => {
    const into = site.module === 'o_proj' ? oSq : site.module === 'down_proj' ? dSq : null;
    if (into) into[site.layer].push(tf.keep(tf.sum(tf.square(x), 0))); // [in] Σ_n x[n, i]²
    return defaultLinear(x, weight, bias, site);
  };
  for (const batch of calibration) {
    tf.tidy(() => {
      forward(model, batchIds(batch), { linear: recording });
    });
  }
  const total = async (parts: tf.Tensor1D[]): Promise<Float64Array> => {
    const sum = tf.tidy(() => parts.reduce((a, b) => tf.add(a, b))); // [in] (pairwise: addN has a WebGPU input limit)
    const out = Float64Array.from(await sum.data());
    sum.dispose();
    parts.forEach((p) => p.dispose());
    return out;
  };
  return fromColumnSquares(model, await Promise.all(oSq.map(total)), await Promise.all(dSq.map(total)));
}

/** S²FT-S: weight norm × activation norm, unit by unit. */
export function productScores(weight: UnitScores, activation: UnitScores): UnitScores {
  const mul = (a: number[][], b: number[][]) => a.map((row, l) => row.map((v, u) => v * b[l][u]));
  return { heads: mul(weight.heads, activation.heads), channels: mul(weight.channels, activation.channels) };
}

/**
 * S²FT-G: norm of dL/dW restricted to each unit's columns, L the sum over calibration batches of
 * each batch's mean next-token cross-entropy (a constant factor away from the mean: same ranking).
 * o_proj and down_proj become variables (sharing the base weights' data) for one backward per
 * batch; all other weights stay constant tensors, so no other gradient is computed, and there is
 * no optimizer state. (Zero S²FT blocks over every unit would give the same numbers but need a
 * one-hot [F, F] per layer for the scatter: far more memory than these weight-sized gradients.)
 */
export async function gradientScores(model: LlamaModel, calibration: readonly Batch[]): Promise<UnitScores> {
  const { config, weights } = model;
  const vars = weights.layers.map((l) => ({ o: tf.variable(l.linear.o_proj), down: tf.variable(l.linear.down_proj) }));
  const scored: LlamaModel = {
    config,
    weights: {
      ...weights,
      layers: weights.layers.map((l, i) => ({
        ...l,
        linear: { ...l.linear, o_proj: vars[i].o as tf.Tensor2D, down_proj: vars[i].down as tf.Tensor2D },
      })),
    },
  };
  const varList = vars.flatMap((v) => [v.o, v.down]);
  try {
    let sum: tf.Tensor[] | null = null; // Σ over batches of dL/dW, per variable
    for (const batch of calibration) {
      const { value, grads } = tf.variableGrads(
        () => causalLmLoss(scored, batchIds(batch), batchLabels(batch)),
        varList,
      );
      value.dispose();
      const g = varList.map((v) => grads[v.name]);
      const prev: tf.Tensor[] | null = sum;
      sum = prev
        ? g.map((t, i): tf.Tensor => {
            const s = tf.add(prev[i], t);
            t.dispose();
            prev[i].dispose();
            return s;
          })
        : g;
    }
    if (!sum) throw new Error('gradientScores needs at least one calibration batch');
    const sq = await Promise.all(sum.map((t) => columnSumSquares(t as tf.Tensor2D)));
    sum.forEach((t) => t.dispose());
    return fromColumnSquares(
      model,
      sq.filter((_, i) => i % 2 === 0),
      sq.filter((_, i) => i % 2 === 1),
    );
  } finally {
    varList.forEach((v) => v.dispose());
  }
}

/** Σ_o W[o, i]² for every column i.  W [out, in] → [in] */
async function columnSumSquares(w: tf.Tensor2D): Promise<Float64Array> {
  const s = tf.tidy(() => tf.sum(tf.square(w), 0)); // [in]
  const out = Float64Array.from(await s.data());
  s.dispose();
  return out;
}

/** Per-column sums of squares of o_proj inputs / down_proj inputs → head and channel norms. */
function fromColumnSquares(model: LlamaModel, oSq: Float64Array[], dSq: Float64Array[]): UnitScores {
  const { numHeads: H, headDim: hd } = model.config;
  return {
    heads: oSq.map((cols) =>
      range(H).map((h) => {
        let s = 0;
        for (let d = 0; d < hd; d++) s += cols[h * hd + d];
        return Math.sqrt(s);
      }),
    ),
    channels: dSq.map((cols) => Array.from(cols, Math.sqrt)),
  };
}

function batchIds(batch: Batch): tf.Tensor2D {
  return tf.tensor2d(batch.inputIds, [batch.batchSize, batch.seqLen], 'int32'); // [B, T]
}

function batchLabels(batch: Batch): tf.Tensor2D {
  return tf.tensor2d(batch.labels, [batch.batchSize, batch.seqLen], 'int32'); // [B, T]
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
