/**
 * The training loss on logits split by vocabulary rows (crossEntropyShards, causalLmLoss) against
 * the unsplit computation: a float64 hand computation of the loss and its logit gradient, and, on
 * a model whose embedding and lm_head are cut into row shards, full fine-tuning's gradient of
 * every weight against plain autodiff through the joined logits of the unsplit model.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { disposeWeights, initWeights } from '../model/init';
import { forward } from '../model/llama';
import { randomIds, tinyConfig } from '../model/testing/tinyModels';
import type { LlamaWeights } from '../model/types';
import { IGNORE_INDEX } from './batch';
import { prepareFull } from './full';
import { causalLmLoss, crossEntropy, crossEntropyShards, minusAtTargets } from './loss';
import { measurePeakBytes } from './memory';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** max |a − b| / max |b| */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

describe('crossEntropyShards', () => {
  const N = 5;
  const V = 11;
  const widths = [4, 4, 3]; // vocabulary rows per shard
  const z = Float64Array.from({ length: N * V }, (_, i) => Math.sin(i * 1.7) * 3); // [N, V]
  const targets = [0, 10, IGNORE_INDEX, 4, 7]; // one in each shard, one ignored

  /** Float64 loss and d loss / d logits, by hand. */
  function reference(): { loss: number; grad: Float64Array } {
    const counted = targets.filter((t) => t !== IGNORE_INDEX).length;
    let loss = 0;
    const grad = new Float64Array(N * V);
    for (let n = 0; n < N; n++) {
      if (targets[n] === IGNORE_INDEX) continue;
      const row = z.subarray(n * V, (n + 1) * V);
      const max = Math.max(...row);
      const sum = row.reduce((s, x) => s + Math.exp(x - max), 0);
      const lse = max + Math.log(sum);
      loss += (lse - row[targets[n]]) / counted;
      for (let v = 0; v < V; v++) grad[n * V + v] = (Math.exp(row[v] - lse) - (v === targets[n] ? 1 : 0)) / counted;
    }
    return { loss, grad };
  }

  it('gives the float64 loss and gradient, and the same numbers as crossEntropy on the joined logits', () => {
    const ref = reference();
    const logits = tf.tensor2d(Float32Array.from(z), [N, V]); // [N, V]
    const labels = tf.tensor2d(targets, [1, N], 'int32'); // [1, N]
    const parts = tf.split(logits, widths, 1) as tf.Tensor2D[]; // [N, V_s] each
    const split = tf.valueAndGrads((...ps: tf.Tensor[]) => crossEntropyShards(ps as tf.Tensor2D[], labels))(parts);
    const joined = tf.valueAndGrad((l: tf.Tensor) => crossEntropy(l.reshape([1, N, V]) as tf.Tensor3D, labels))(logits);
    const splitGrad = tf.concat(split.grads, 1).dataSync(); // [N, V]
    const lossDiff = Math.abs(split.value.dataSync()[0] - ref.loss) / ref.loss;
    const gradDiff = relDiff(splitGrad, ref.grad);
    const vsJoined = relDiff(splitGrad, joined.grad.dataSync());
    console.log(
      `crossEntropyShards vs float64: loss ${lossDiff.toExponential(2)}, gradient ${gradDiff.toExponential(2)}; ` +
        `gradient vs crossEntropy on the joined logits ${vsJoined.toExponential(2)}`,
    );
    expect(lossDiff).toBeLessThan(1e-6);
    expect(gradDiff).toBeLessThan(1e-6);
    expect(Math.abs(split.value.dataSync()[0] - joined.value.dataSync()[0])).toBeLessThan(1e-6);
    expect(vsJoined).toBeLessThan(1e-6);
    tf.dispose([logits, labels, parts, split.value, split.grads, joined.value, joined.grad]);
  });
});

describe('minusAtTargets', () => {
  it.each(['scatter', 'oneHot'] as const)('subtracts a[n] at column t[n] of row n only (%s)', (how) => {
    const [N, C] = [4, 6];
    const g = Float32Array.from({ length: N * C }, (_, i) => Math.cos(i) * 2); // [N, C]
    const t = [5, 0, 2, 2];
    const a = [0.5, -1.25, 0, 3];
    const expected = Float32Array.from(g);
    t.forEach((col, n) => (expected[n * C + col] = Math.fround(g[n * C + col] - a[n])));
    const gT = tf.tensor2d(g, [N, C]);
    const [tT, aT] = [tf.tensor1d(t, 'int32'), tf.tensor1d(a)];
    const before = tf.memory().numTensors;
    const out = minusAtTargets(gT, tT, aT, how);
    // Exactly: each entry is g, or g − a computed once in float32.
    expect(Array.from(out.dataSync())).toEqual(Array.from(expected));
    expect(gT.isDisposed).toBe(true);
    expect(tf.memory().numTensors).toBe(before); // g out, the result in: nothing else left behind
    tf.dispose([out, tT, aT]);
  });
});

describe('crossEntropyShards memory', () => {
  it('holds no more than the gradient and a shard in flight, beyond its logits', async () => {
    const [N, S, Vs] = [64, 8, 256]; // V = 2048 in 8 shards
    const parts = Array.from({ length: S }, (_, s) => tf.randomNormal([N, Vs], 0, 3, 'float32', s) as tf.Tensor2D);
    const labels = tf.tensor2d(
      Array.from({ length: N }, (_, n) => (n * 37) % (S * Vs)),
      [1, N],
      'int32',
    );
    const { stepPeakBytes, value } = await measurePeakBytes(() =>
      tf.valueAndGrads((...ps: tf.Tensor[]) => crossEntropyShards(ps as tf.Tensor2D[], labels))(parts),
    );
    const nv = 4 * N * S * Vs; // bytes of the logits, or of their gradient
    const shard = nv / S;
    console.log(
      `crossEntropyShards peak beyond its inputs: ${(stepPeakBytes / nv).toFixed(2)} N·V ` +
        `(the gradient is 1 N·V, a shard ${(1 / S).toFixed(3)}; bound 1 + 3/${S})`,
    );
    // The gradient (N·V; each shard replaces its softmax) plus a shard in flight: no second N·V.
    expect(stepPeakBytes).toBeLessThanOrEqual(nv + 3 * shard + 64 * N);
    tf.dispose([parts, labels, value.value, value.grads]);
  });
});

describe('causalLmLoss on row-sharded embedding and lm_head', () => {
  it.each([false, true])('full FT gradients equal plain autodiff on the unsplit model (tied %s)', (tied) => {
    const config = tinyConfig({ tieWordEmbeddings: tied }); // V 50, D 32
    const B = 2;
    const T = 4;
    const whole = initWeights(config, 3, { std: 0.2 }); // one shard each
    const rows = Math.ceil(config.vocabSize / 3);
    const cut = (shards: tf.Tensor2D[]) =>
      [
        shards[0].slice([0, 0], [rows, -1]),
        shards[0].slice([rows, 0], [rows, -1]),
        shards[0].slice([2 * rows, 0], [-1, -1]),
      ] as tf.Tensor2D[];
    const sharded: LlamaWeights = {
      ...whole,
      embedTokens: cut(whole.embedTokens),
      lmHead: whole.lmHead ? cut(whole.lmHead) : null,
    };
    const seq = randomIds(B, T + 1, config.vocabSize, 5);
    const ids = tf.tensor2d(
      seq.map((r) => r.slice(0, T)),
      [B, T],
      'int32',
    ); // [B, T]
    const labels = tf.tensor2d(
      seq.map((r) => r.slice(1)),
      [B, T],
      'int32',
    ); // [B, T]

    const full = prepareFull({ config, weights: sharded });
    const split = tf.variableGrads(
      () => causalLmLoss({ config, weights: full.weights }, ids, labels, full.linear),
      full.trainable,
    );
    // The unsplit computation: plain autodiff through joined logits of the one-shard weights.
    const plainVars = [whole.embedTokens[0], ...(whole.lmHead ?? [])].map((t) => tf.variable(t));
    const plainWeights: LlamaWeights = {
      ...whole,
      embedTokens: [plainVars[0] as tf.Variable<tf.Rank.R2>],
      lmHead: tied ? null : [plainVars[1] as tf.Variable<tf.Rank.R2>],
    };
    const plain = tf.variableGrads(
      () => crossEntropy(forward({ config, weights: plainWeights }, ids), labels),
      plainVars,
    );

    const grad = (v: tf.Variable) => split.grads[v.name];
    const joinedEmbed = tf.concat(
      full.weights.embedTokens.map((v) => grad(v as tf.Variable)),
      0,
    );
    const diffs = [
      Math.abs(split.value.dataSync()[0] - plain.value.dataSync()[0]),
      relDiff(joinedEmbed.dataSync(), plain.grads[plainVars[0].name].dataSync()),
    ];
    if (!tied) {
      const joinedHead = tf.concat(
        full.weights.lmHead!.map((v) => grad(v as tf.Variable)),
        0,
      );
      diffs.push(relDiff(joinedHead.dataSync(), plain.grads[plainVars[1].name].dataSync()));
      joinedHead.dispose();
    }
    console.log(
      `tied ${tied}: loss |Δ| ${diffs[0].toExponential(2)}, embedding gradient ${diffs[1].toExponential(2)}` +
        (tied ? '' : `, lm_head gradient ${diffs[2].toExponential(2)}`),
    );
    for (const d of diffs) expect(d).toBeLessThan(1e-5);
    expect(full.weights.embedTokens).toHaveLength(3);

    tf.dispose([
      ids,
      labels,
      split.value,
      plain.value,
      joinedEmbed,
      ...Object.values(split.grads),
      ...Object.values(plain.grads),
      ...plainVars,
    ]);
    full.dispose();
    tf.dispose([...sharded.embedTokens, ...(sharded.lmHead ?? [])]);
    disposeWeights(whole);
  });
});
