/**
 * The bench runs on the fastest backend, but only after checking that it computes the same
 * gradients as the `cpu` backend the core's gradient tests use: every method's trainable
 * gradients of the training loss (causalLmLoss, as the Trainer takes it) on a tiny model, same
 * weights, data and seed, max |difference| ≤ tolerance.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../../src/core/model/types';
import { causalLmLoss } from '../../src/core/train/loss';
import { METHODS, prepareOn, randomFeed } from './compare';

const TINY: ModelConfig = {
  modelType: 'llama',
  vocabSize: 50,
  hiddenSize: 32,
  intermediateSize: 64,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 8,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  ropeScaling: null,
  maxPositionEmbeddings: 64,
  tieWordEmbeddings: true,
  attentionBias: false,
  bosTokenId: 0,
  eosTokenIds: [0],
};

/** Gradients of every trainable variable of `method` (in order), on the active backend. */
async function gradients(method: (typeof METHODS)[number]): Promise<Float32Array[]> {
  const { model, prepared, release } = await prepareOn(method, TINY, 3, 2);
  // Non-zero S²FT / LoRA-B values, so every gradient path (not only the base's) is exercised.
  prepared.trainable.forEach((v, i) => {
    if (method !== 'full') tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.05, 'float32', 10 + i)));
  });
  const batch = randomFeed(TINY.vocabSize, 2, 8, 5).next();
  const ids = tf.tensor2d(batch.inputIds, [2, 8], 'int32'); // [B, T]
  const labels = tf.tensor2d(batch.labels, [2, 8], 'int32'); // [B, T]
  const { grads, value } = tf.variableGrads(
    () => causalLmLoss({ config: model.config, weights: prepared.weights }, ids, labels, prepared.linear),
    prepared.trainable,
  );
  const out = await Promise.all(prepared.trainable.map(async (v) => new Float32Array(await grads[v.name].data())));
  tf.dispose([ids, labels, value, ...Object.values(grads)]);
  release();
  return out;
}

/** Switches to `reference`, computes, switches with `useFast`, computes again; returns the max diffs. */
export async function gradientCheck(
  reference: string,
  useFast: () => Promise<string>,
  log: (line: string) => void,
  tolerance = 1e-4,
): Promise<{ maxAbsDiff: Record<string, number>; tolerance: number }> {
  await tf.setBackend(reference);
  const ref: Record<string, Float32Array[]> = {};
  for (const m of METHODS) ref[m] = await gradients(m);
  const fast = await useFast();
  const maxAbsDiff: Record<string, number> = {};
  for (const m of METHODS) {
    const got = await gradients(m);
    let worst = 0;
    got.forEach((g, i) =>
      g.forEach((x, j) => {
        worst = Math.max(worst, Math.abs(x - ref[m][i][j]));
      }),
    );
    maxAbsDiff[m] = worst;
    log(`gradient check ${fast} vs ${reference}, ${m}: max |diff| ${worst.toExponential(2)} (tolerance ${tolerance})`);
  }
  return { maxAbsDiff, tolerance };
}
