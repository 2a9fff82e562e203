import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposeWeights, initWeights, weightTensors } from '../model/init';
import { forward } from '../model/llama';
import { randomIds, tinyConfig } from '../model/testing/tinyModels';
import type { LlamaWeights } from '../model/types';
import { prepareFull } from './full';
import { crossEntropy, nextTokenLabels } from './loss';

const B = 2,
  T = 5;
const maxAbs = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.abs(tf.sub(a, b)).max().dataSync()[0]);

describe.each([
  ['untied, q/k/v biases, sharded embedding', tinyConfig({ attentionBias: true }), 20],
  ['tied embeddings', tinyConfig({ tieWordEmbeddings: true }), undefined],
])('full fine-tuning (%s)', (_label, config, shardRows) => {
  let base: LlamaWeights;
  const idsArr = randomIds(B, T, config.vocabSize, 3);
  beforeAll(async () => {
    await tf.setBackend('cpu');
    base = initWeights(config, 4, { shardRows });
  });
  afterAll(() => disposeWeights(base));

  it('trains every parameter, starting from the base, without touching the base', () => {
    const m = prepareFull({ config, weights: base });
    const baseTensors = weightTensors(base);
    expect(m.trainable.length).toBe(baseTensors.length);
    expect(m.stats().trainableParams).toBe(baseTensors.reduce((s, t) => s + t.size, 0));
    expect(weightTensors(m.weights).every((t) => t instanceof tf.Variable && t.trainable)).toBe(true);

    const ids = tf.tensor2d(idsArr, [B, T], 'int32');
    const labels = tf.tensor2d(
      idsArr.map((r) => Array.from(nextTokenLabels(r))),
      [B, T],
      'int32',
    );
    const diff = tf.tidy(() =>
      maxAbs(
        forward({ config, weights: base }, ids),
        forward({ config, weights: m.weights }, ids, { linear: m.linear }),
      ),
    );
    expect(diff).toBe(0);

    // Every parameter gets a gradient, including embeddings, norms, biases and lm_head.
    const { value, grads } = tf.variableGrads(
      () => crossEntropy(forward({ config, weights: m.weights }, ids, { linear: m.linear }), labels),
      m.trainable,
    );
    const zeroGrads = m.trainable.filter((v) => tf.tidy(() => tf.abs(grads[v.name]).max().dataSync()[0]) === 0).length;
    expect(zeroGrads).toBe(0);

    // One SGD step changes the trained weights; the base stays as it was.
    const before = base.layers[0].linear.o_proj.dataSync().slice();
    for (const v of m.trainable) v.assign(tf.tidy(() => tf.sub(v, tf.mul(grads[v.name], 0.5))));
    expect(Array.from(base.layers[0].linear.o_proj.dataSync())).toEqual(Array.from(before));
    const moved = maxAbs(m.weights.layers[0].linear.o_proj, base.layers[0].linear.o_proj);
    expect(moved).toBeGreaterThan(0);

    // The export is a snapshot: later updates do not change it, and it outlives dispose().
    const exported = m.exportWeights();
    const snap = exported.layers[0].linear.o_proj.dataSync().slice();
    m.trainable[0].assign(tf.zerosLike(m.trainable[0]));
    m.dispose();
    expect(Array.from(exported.layers[0].linear.o_proj.dataSync())).toEqual(Array.from(snap));
    expect(exported.lmHead === null).toBe(config.tieWordEmbeddings);
    expect(base.layers[0].linear.o_proj.isDisposed).toBe(false);
    disposeWeights(exported);
    tf.dispose([ids, labels, value, ...Object.values(grads)]);
  });
});
