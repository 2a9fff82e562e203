import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../errors';
import { parseSafetensors } from '../io/safetensors';
import { disposeWeights, initWeights } from '../model/init';
import { defaultLinear, forward } from '../model/llama';
import { randomIds, tinyConfig } from '../model/testing/tinyModels';
import type { LinearFn, LlamaWeights } from '../model/types';
import { loraParams } from '../s2ft/budget';
import { crossEntropy, nextTokenLabels } from './loss';
import { loraLinear, prepareLora } from './lora';

const config = tinyConfig({ attentionBias: true });
let base: LlamaWeights;
const B = 2,
  T = 6;
const idsArr = randomIds(B, T, config.vocabSize, 5);
let ids: tf.Tensor2D;
let labels: tf.Tensor2D;

beforeAll(async () => {
  await tf.setBackend('cpu');
  base = initWeights(config, 2);
  ids = tf.tensor2d(idsArr, [B, T], 'int32');
  labels = tf.tensor2d(
    idsArr.map((row) => Array.from(nextTokenLabels(row))),
    [B, T],
    'int32',
  );
});
afterAll(() => {
  disposeWeights(base);
  tf.dispose([ids, labels]);
});

const maxAbs = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.abs(tf.sub(a, b)).max().dataSync()[0]);

/** Plain-autodiff reference: every adapted weight is W + (alpha/r)·B·A, every linear plain. */
function referenceLinear(pairs: Map<string, { A: tf.Tensor2D; B: tf.Tensor2D }>, scale: number): LinearFn {
  return (x, W, b, site) => {
    const p = pairs.get(`${site.layer}.${site.module}`);
    const Weff = p ? (tf.add(W, tf.mul(tf.matMul(p.B, p.A), scale)) as tf.Tensor2D) : W; // [out, in]
    return defaultLinear(x, Weff, b, site);
  };
}

describe('LoRA method', () => {
  it('starts exactly at the base model, with PEFT initialisation', () => {
    const m = prepareLora({ config, weights: base }, { rank: 4, seed: 1 });
    const a = forward({ config, weights: base }, ids);
    const l = forward({ config, weights: m.weights }, ids, { linear: m.linear });
    const diff = maxAbs(a, l);
    console.log(`LoRA at init vs base logits: max diff ${diff.toExponential(3)} (tolerance 1e-6)`);
    expect(diff).toBeLessThanOrEqual(1e-6);
    const A = m.trainable[0],
      Bm = m.trainable[1];
    const bound = 1 / Math.sqrt(config.hiddenSize);
    const aVals = A.dataSync();
    expect(Math.max(...Array.from(aVals, Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...Array.from(aVals, Math.abs))).toBeGreaterThan(0.8 * bound); // spread over the range
    expect(Array.from(Bm.dataSync()).every((v) => v === 0)).toBe(true);
    // Same seed → same A; another seed → another A.
    const again = prepareLora({ config, weights: base }, { rank: 4, seed: 1 });
    const other = prepareLora({ config, weights: base }, { rank: 4, seed: 2 });
    expect(Array.from(again.trainable[0].dataSync())).toEqual(Array.from(aVals));
    expect(Array.from(other.trainable[0].dataSync())).not.toEqual(Array.from(aVals));
    // r · Σ(in + out) over q, k, v, up, down: the budget S²FT matches.
    expect(m.stats().trainableParams).toBe(loraParams(config, 4));
    tf.dispose([a, l]);
    [m, again, other].forEach((x) => x.dispose());
  });

  it('forward and gradients equal plain autodiff on W + (alpha/r)·B·A', () => {
    const rank = 3,
      alpha = 5;
    const m = prepareLora({ config, weights: base }, { rank, alpha, seed: 3 });
    m.trainable.forEach((v, i) => {
      if (i % 2 === 1) v.assign(tf.randomNormal(v.shape, 0, 0.05, 'float32', 100 + i));
    });
    const pairs = new Map<string, { A: tf.Tensor2D; B: tf.Tensor2D }>();
    let i = 0;
    for (let layer = 0; layer < config.numLayers; layer++) {
      for (const mod of ['q_proj', 'k_proj', 'v_proj', 'up_proj', 'down_proj']) {
        pairs.set(`${layer}.${mod}`, { A: m.trainable[i] as tf.Tensor2D, B: m.trainable[i + 1] as tf.Tensor2D });
        i += 2;
      }
    }
    const loss = (linear: LinearFn) => () => crossEntropy(forward({ config, weights: base }, ids, { linear }), labels);
    const got = tf.variableGrads(loss(m.linear), m.trainable);
    const want = tf.variableGrads(loss(referenceLinear(pairs, alpha / rank)), m.trainable);
    let rel = 0;
    for (const v of m.trainable) {
      const g = got.grads[v.name],
        w = want.grads[v.name];
      rel = Math.max(
        rel,
        maxAbs(g, w) /
          Math.max(
            1e-12,
            tf.tidy(() => tf.abs(w).max().dataSync()[0]),
          ),
      );
    }
    const lossDiff = Math.abs(got.value.dataSync()[0] - want.value.dataSync()[0]);
    console.log(
      `LoRA vs plain autodiff: loss diff ${lossDiff.toExponential(3)} (tolerance 1e-6), max relative grad diff ${rel.toExponential(3)} (tolerance 1e-4)`,
    );
    expect(lossDiff).toBeLessThanOrEqual(1e-6);
    expect(rel).toBeLessThanOrEqual(1e-4);
    tf.dispose([got.value, want.value, ...Object.values(got.grads), ...Object.values(want.grads)]);
    m.dispose();
  });

  it('loraLinear with a dropped-out input: dx, d x_d, dA and dB equal plain autodiff', () => {
    tf.tidy(() => {
      const [N, IN, OUT, r, scale] = [5, 8, 6, 3, 1.5];
      const rand = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);
      const W = rand([OUT, IN], 1) as tf.Tensor2D,
        b = rand([OUT], 2) as tf.Tensor1D;
      const xs = [rand([N, IN], 3), rand([N, IN], 4), rand([r, IN], 5), rand([OUT, r], 6)]; // x, x_d, A, B
      const R = rand([N, OUT], 7);
      const got = tf.grads((x: tf.Tensor, xd: tf.Tensor, A: tf.Tensor, Bm: tf.Tensor) =>
        loraLinear(
          x as tf.Tensor2D,
          xd as tf.Tensor2D,
          W,
          b,
          A as tf.Variable<tf.Rank.R2>,
          Bm as tf.Variable<tf.Rank.R2>,
          scale,
        )
          .mul(R)
          .sum(),
      )(xs);
      const want = tf.grads((x: tf.Tensor, xd: tf.Tensor, A: tf.Tensor, Bm: tf.Tensor) =>
        tf
          .add(
            tf.add(tf.matMul(x, W, false, true), b),
            tf.mul(tf.matMul(tf.matMul(xd, A, false, true), Bm, false, true), scale),
          )
          .mul(R)
          .sum(),
      )(xs);
      const rel = Math.max(...got.map((g, i) => maxAbs(g, want[i]) / tf.abs(want[i]).max().dataSync()[0]));
      console.log(
        `loraLinear with dropout input vs plain autodiff: max relative grad diff ${rel.toExponential(3)} (tolerance 1e-5)`,
      );
      expect(rel).toBeLessThanOrEqual(1e-5);
    });
  });

  it('dropout is seeded and applies only while gradients are recorded', () => {
    const m = prepareLora({ config, weights: base }, { rank: 2, dropout: 0.5, seed: 4 });
    m.trainable.forEach((v, i) => {
      if (i % 2 === 1) v.assign(tf.onesLike(v).mul(0.1));
    });
    const noDrop = prepareLora({ config, weights: base }, { rank: 2, dropout: 0, seed: 4 });
    noDrop.trainable.forEach((v, i) => v.assign(m.trainable[i]));
    const evalDiff = tf.tidy(() =>
      maxAbs(
        forward({ config, weights: base }, ids, { linear: m.linear }),
        forward({ config, weights: base }, ids, { linear: noDrop.linear }),
      ),
    );
    expect(evalDiff).toBe(0);
    const lossOf = (method: typeof m) =>
      tf.tidy(
        () =>
          tf
            .variableGrads(
              () => crossEntropy(forward({ config, weights: base }, ids, { linear: method.linear }), labels),
              method.trainable,
            )
            .value.dataSync()[0],
      );
    const dropped = lossOf(m);
    const plain = lossOf(noDrop);
    expect(dropped).not.toBe(plain);
    // A fresh method with the same seed draws the same masks.
    const twin = prepareLora({ config, weights: base }, { rank: 2, dropout: 0.5, seed: 4 });
    twin.trainable.forEach((v, i) => v.assign(m.trainable[i]));
    expect(lossOf(twin)).toBe(dropped);
    [m, noDrop, twin].forEach((x) => x.dispose());
  });

  it('exports PEFT LoRA files whose B·A·alpha/r is the trained update', async () => {
    const rank = 2,
      alpha = 6;
    const m = prepareLora({ config, weights: base }, { rank, alpha, seed: 6, targetModules: ['q_proj', 'down_proj'] });
    m.trainable.forEach((v, i) => {
      if (i % 2 === 1) v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', i));
    });
    const files = await m.exportPeft({ name: 'tiny-base', fingerprint: 'xxh64:0123456789abcdef' });
    const cfg = JSON.parse(new TextDecoder().decode(files['adapter_config.json'])) as Record<string, unknown>;
    expect(cfg).toMatchObject({
      peft_type: 'LORA',
      r: rank,
      lora_alpha: alpha,
      target_modules: ['q_proj', 'down_proj'],
      base_model_name_or_path: 'tiny-base',
      task_type: 'CAUSAL_LM',
    });
    const st = parseSafetensors(files['adapter_model.safetensors']);
    expect([...st.tensors.keys()].sort()).toEqual([
      'base_model.model.model.layers.0.mlp.down_proj.lora_A.weight',
      'base_model.model.model.layers.0.mlp.down_proj.lora_B.weight',
      'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight',
      'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight',
      'base_model.model.model.layers.1.mlp.down_proj.lora_A.weight',
      'base_model.model.model.layers.1.mlp.down_proj.lora_B.weight',
      'base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight',
      'base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight',
    ]);
    expect(st.tensors.get('base_model.model.model.layers.1.mlp.down_proj.lora_A.weight')!.shape).toEqual([
      rank,
      config.intermediateSize,
    ]);
    expect(Array.from(st.read('base_model.model.model.layers.1.mlp.down_proj.lora_B.weight'))).toEqual(
      Array.from(m.trainable[7].dataSync()),
    ); // layer 1 down_proj B
    m.dispose();
  });

  it('refuses bad settings', () => {
    expect(() => prepareLora({ config, weights: base }, { rank: 0 })).toThrow(UserError);
    expect(() => prepareLora({ config, weights: base }, { rank: 2, dropout: 1 })).toThrow(/dropout/);
  });
});
