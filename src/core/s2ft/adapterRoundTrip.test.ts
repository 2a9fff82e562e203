/**
 * Issue 4 "Must show": train → export → import into a fresh base → the same outputs.
 * Training is the real Trainer (AdamW, a few steps) on S²FT's partial-backprop blocks; the
 * adapter then travels as bytes (native file), is decoded, checked against a freshly loaded base
 * by fingerprint, fused, and the fused model's logits must equal the trained model's.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../errors';
import { fingerprintModel } from '../io/fingerprint';
import { disposeWeights, initWeights } from '../model/init';
import { forward } from '../model/llama';
import { randomIds, tinyConfig } from '../model/testing/tinyModels';
import type { Batch } from '../train/batch';
import { nextTokenLabels } from '../train/loss';
import { trainConfig } from '../train/config';
import { prepareS2ft } from '../train/s2ft';
import { Trainer } from '../train/trainer';
import { adapterDims, checkAdapterFitsModel, decodeS2ftAdapter, encodeS2ftAdapter, type AdapterInfo } from './adapter';
import { fuseAdapters, multiAdapterLinear, releaseReplacedWeights } from './fuse';

const config = tinyConfig({ attentionBias: true }); // GQA (4 heads on 2 kv heads), q/k/v biases
const selection = {
  layers: [
    { heads: [0, 3], channels: [1, 20, 33], vHeads: [1], upChannels: [5] },
    { heads: [2], channels: [47] },
  ],
};
const B = 2,
  T = 8;
const rows = randomIds(B, T, config.vocabSize, 12);
const batch: Batch = {
  batchSize: B,
  seqLen: T,
  inputIds: Int32Array.from(rows.flat()),
  labels: Int32Array.from(rows.flatMap((r) => Array.from(nextTokenLabels(r)))),
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const maxAbs = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.abs(tf.sub(a, b)).max().dataSync()[0]);

describe('S²FT adapter round trip', () => {
  it('train → export → import into a fresh base reproduces the trained outputs', async () => {
    const trainedBase = initWeights(config, 5);
    const method = prepareS2ft({ config, weights: trainedBase }, selection);
    const trainer = new Trainer(
      method,
      config,
      { next: () => batch },
      trainConfig({ steps: 3, lr: 2e-2, schedule: 'constant', gradClip: 0 }),
    );
    const { history } = await trainer.run();
    trainer.dispose();
    expect(history[2].loss).toBeLessThan(history[0].loss); // it trained

    const ids = tf.tensor2d(rows, [B, T], 'int32');
    const trained = forward({ config, weights: method.weights }, ids, { linear: method.linear }); // [B, T, V]
    const plain = forward({ config, weights: trainedBase }, ids);
    const fingerprint = (await fingerprintModel(config, trainedBase)).fingerprint;
    const info: AdapterInfo = {
      baseModel: { name: 'tiny-llama', fingerprint },
      targetModules: ['o_proj', 'down_proj', 'v_proj', 'up_proj'],
      selection: { strategy: 'random', seed: 0 },
      training: { optimizer: 'adamw', lr: 2e-2, steps: 3 },
      dims: adapterDims(config),
    };
    const bytes = encodeS2ftAdapter(await method.blocks(), info);

    // A fresh load of the same base: new tensors, same values.
    const freshBase = initWeights(config, 5);
    const adapter = decodeS2ftAdapter(bytes, 'trained.safetensors');
    const freshFingerprint = (await fingerprintModel(config, freshBase)).fingerprint;
    checkAdapterFitsModel(
      adapter,
      config,
      { name: 'tiny-llama', fingerprint: freshFingerprint },
      'trained.safetensors',
    );
    expect(adapter.blocks.map((b) => `${b.layer}.${b.module}`)).toEqual([
      '0.o_proj',
      '0.down_proj',
      '0.v_proj',
      '0.up_proj',
      '1.o_proj',
      '1.down_proj',
    ]);

    const fused = fuseAdapters(freshBase, [{ adapter, weight: 1 }]);
    const imported = forward({ config, weights: fused }, ids);
    const serving = multiAdapterLinear([adapter], [0, 0]);
    const served = forward({ config, weights: freshBase }, ids, { linear: serving.linear });
    const diff = maxAbs(trained, imported);
    const diffServed = maxAbs(trained, served);
    const effect = maxAbs(trained, plain);
    console.log(
      `round trip: trained vs imported+fused logits max diff ${diff.toExponential(3)}, vs parallel-served ${diffServed.toExponential(3)} (tolerance 1e-5); training moved logits by ${effect.toExponential(3)}`,
    );
    expect(effect).toBeGreaterThan(1e-2);
    expect(diff).toBeLessThanOrEqual(1e-5);
    expect(diffServed).toBeLessThanOrEqual(1e-5);

    // Written → read gives identical blocks.
    const again = decodeS2ftAdapter(encodeS2ftAdapter(adapter.blocks, adapter.info), 'again');
    expect(again).toEqual(adapter);

    // A base with other weights (same shapes) is refused, naming both models.
    const otherBase = initWeights(config, 6);
    const otherFingerprint = (await fingerprintModel(config, otherBase)).fingerprint;
    expect(otherFingerprint).not.toBe(fingerprint);
    let refusal: unknown;
    try {
      checkAdapterFitsModel(
        adapter,
        config,
        { name: 'other-llama', fingerprint: otherFingerprint },
        'trained.safetensors',
      );
    } catch (e) {
      refusal = e;
    }
    expect(refusal).toBeInstanceOf(UserError);
    const message = (refusal as UserError).message;
    console.log(`wrong base refused: ${message}`);
    for (const s of ['trained.safetensors', 'tiny-llama', fingerprint, 'other-llama', otherFingerprint])
      expect(message).toContain(s);

    serving.dispose();
    releaseReplacedWeights(fused, freshBase);
    tf.dispose([ids, trained, plain, imported, served]);
    method.dispose();
    [trainedBase, freshBase, otherBase].forEach(disposeWeights);
  });
});
