import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { residualAdd, transpose } from '../model/fusedOps';
import { disposeWeights, initWeights } from '../model/init';
import { frozenLinear } from '../model/linear';
import { forward } from '../model/llama';
import { randomIds, tinyConfig } from '../model/testing/tinyModels';
import type { LlamaModel } from '../model/types';
import { loraParams, s2ftParams } from '../s2ft/budget';
import { crossEntropy, nextTokenLabels } from './loss';
import { measurePeakBytes, measureStepPeakBytes } from './memory';
import type { PreparedMethod } from './method';
import { prepareMethod } from './methods';
import { createOptimizer } from './optimizer';
import { ADAMW_DEFAULTS } from './optimizerSettings';

// The paper's regime (batch 1–2, weights larger than one step's activations), scaled down.
const config = tinyConfig({
  hiddenSize: 128,
  intermediateSize: 352,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 32,
  vocabSize: 128,
});
const B = 2,
  T = 16;
let model: LlamaModel;
let ids: tf.Tensor2D;
let labels: tf.Tensor2D;

beforeAll(async () => {
  await tf.setBackend('cpu');
  model = { config, weights: initWeights(config, 1) };
  const rows = randomIds(B, T, config.vocabSize, 2);
  ids = tf.tensor2d(rows, [B, T], 'int32');
  labels = tf.tensor2d(
    rows.map((r) => Array.from(nextTokenLabels(r))),
    [B, T],
    'int32',
  );
});
afterAll(() => {
  disposeWeights(model.weights);
  tf.dispose([ids, labels]);
});

/** Peak tensor bytes above the loaded base model of: prepare + AdamW state + one AdamW step. */
async function stepPeakAboveBase(prepare: () => PreparedMethod): Promise<number> {
  const held = tf.memory().numBytes;
  const method = prepare();
  const optimizer = createOptimizer(method.trainable, ADAMW_DEFAULTS);
  const { peakBytes } = await measureStepPeakBytes(() => {
    const { value, grads } = tf.variableGrads(
      () => crossEntropy(forward({ config, weights: method.weights }, ids, { linear: method.linear }), labels),
      method.trainable,
    );
    optimizer.apply(grads, 1e-3);
    tf.dispose([value, ...Object.values(grads)]);
  });
  optimizer.dispose();
  method.dispose();
  expect(tf.memory().numBytes).toBe(held); // nothing leaked
  return peakBytes - held;
}

describe('peak tensor bytes of one training step', () => {
  it('measureStepPeakBytes sees a transient allocation and what a step keeps', async () => {
    const m = await measureStepPeakBytes(() => {
      const kept = tf.tidy(() => tf.ones([1000]).add(1).sum()); // 4000-byte transients, 4 bytes kept
      kept.dispose();
    });
    expect(m.stepPeakBytes).toBeGreaterThanOrEqual(8000); // ones and ones+1 alive together
    expect(m.retainedBytes).toBe(0);
  });

  it('counts a buffer once however many tensors share it (reshape, clone), where tf.memory() counts each', async () => {
    let handleBytes = 0;
    const m = await measureStepPeakBytes(() => {
      const before = tf.memory().numBytes;
      const a = tf.ones([1000]); // one 4000-byte buffer
      const views = [a.reshape([10, 100]), tf.clone(a), a.reshape([100, 10])];
      handleBytes = tf.memory().numBytes - before;
      tf.dispose([a, ...views]);
    });
    console.log(
      `4 tensors on one 4000-byte buffer: distinct-buffer peak ${m.stepPeakBytes} B, tf.memory() ${handleBytes} B`,
    );
    expect(handleBytes).toBe(16000);
    expect(m.stepPeakBytes).toBe(4000);
    expect(m.retainedBytes).toBe(0);
  });

  it('lists the buffers alive at the peak when asked, not the ones freed before it', async () => {
    const m = await measurePeakBytes(
      () => {
        tf.tidy(() =>
          tf
            .zeros([5, 5])
            .add(tf.ones([5, 5]))
            .sum(),
        ).dispose(); // [5, 5] buffers, all freed first
        const a = tf.ones([20, 10]);
        const b = a.mul(a); // the peak: a and b alive
        tf.dispose([a, b]);
      },
      { recordPeakBuffers: true },
    );
    const shapes = m.peakBuffers.map((p) => p.shape.join('x')).sort();
    console.log(`buffers at the peak: ${shapes.join(', ')} (${m.stepPeakBytes} B)`);
    expect(shapes).toEqual(['20x10', '20x10']);
    expect(m.peakBuffers.reduce((n, p) => n + p.bytes, 0)).toBe(m.stepPeakBytes);
  });

  it('a backward through releasing ops frees each gradient once used; plain autodiff keeps them all', async () => {
    // Eight links y = x + (x W)ᵀ on [64, 64]: the step's peak above its start, in [64, 64] buffers.
    const D = 64,
      links = 8,
      buffer = D * D * 4;
    const Ws = Array.from(
      { length: links },
      (_, i) => tf.randomNormal([D, D], 0, 0.1, 'float32', 40 + i) as tf.Tensor2D,
    );
    const S = tf.variable(tf.randomNormal([D, D], 0, 0.1, 'float32', 39) as tf.Tensor2D, true, 'releaseChain');
    const peakBuffers = async (link: (x: tf.Tensor2D, W: tf.Tensor2D) => tf.Tensor2D) => {
      const m = await measurePeakBytes(() => {
        const { value, grads } = tf.variableGrads(() => {
          let x = tf.matMul(S, S) as tf.Tensor2D; // [D, D], depends on S
          for (const W of Ws) {
            const prev = x;
            x = tf.tidy(() => link(prev, W));
            prev.dispose();
          }
          return x.sum() as tf.Scalar;
        }, [S]);
        tf.dispose([value, ...Object.values(grads)]);
      });
      return m.stepPeakBytes / buffer;
    };
    const releasing = await peakBuffers((x, W) => residualAdd(x, transpose(frozenLinear(x, W, null), [1, 0])));
    const plain = await peakBuffers((x, W) => tf.add(x, tf.transpose(tf.matMul(x, W, false, true))));
    console.log(
      `peak of a ${links}-link step in [${D}, ${D}] buffers: releasing ops ${releasing.toFixed(1)}, plain autodiff ${plain.toFixed(1)}`,
    );
    // Plain autodiff holds every link's saved input and every intermediate gradient (≥ 3 a link).
    // The releasing ops hold a few live gradients plus one buffer a link: where x meets two
    // consumers, tfjs's accumulation (a + b) keeps the addend b until the backward ends.
    expect(plain).toBeGreaterThanOrEqual(3 * links);
    expect(releasing).toBeLessThanOrEqual(links + 7);
    tf.dispose([...Ws, S]);
  });

  it('S²FT is below LoRA at matched trainable parameters, and well below full FT', async () => {
    const rank = 4;
    // Per layer: 1 head (hd·D = 4096) + 18 channels (18·D = 2304) = 6400 = LoRA r=4 per layer.
    const channels = (offset: number) =>
      Array.from({ length: 18 }, (_, i) => (offset + 19 * i) % config.intermediateSize);
    const selection = {
      layers: [
        { heads: [1], channels: channels(3) },
        { heads: [2], channels: channels(11) },
      ],
    };
    expect(s2ftParams(config, selection)).toBe(loraParams(config, rank));

    const s2ft = await stepPeakAboveBase(() => prepareMethod('s2ft', model, { selection }));
    const lora = await stepPeakAboveBase(() => prepareMethod('lora', model, { lora: { rank, seed: 1 } }));
    const full = await stepPeakAboveBase(() => prepareMethod('full', model, {}));
    // Deterministic: measuring again gives the same bytes.
    const s2ftAgain = await stepPeakAboveBase(() => prepareMethod('s2ft', model, { selection }));
    console.log(
      `peak tensor bytes of one AdamW step above the base model (B=${B}, T=${T}, ${loraParams(config, rank)} trainable for S²FT and LoRA r=${rank}):` +
        ` S²FT ${s2ft}, LoRA ${lora}, full FT ${full}; S²FT/LoRA ${(s2ft / lora).toFixed(3)}, S²FT/full ${(s2ft / full).toFixed(3)}`,
    );
    expect(s2ftAgain).toBe(s2ft);
    expect(s2ft).toBeLessThan(lora);
    expect(s2ft).toBeLessThan(0.5 * full);
  });
});
