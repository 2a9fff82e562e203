/**
 * Each fused op against plain autodiff of its unfused formula: values and gradients for every
 * input (including RMSNorm's weight, trainable under full FT), with a random upstream gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { gegluTanh, scaleBy, softcap } from './familyOps';
import { groupedAttention, reshape, residualAdd, rmsNorm, swiglu, transpose } from './fusedOps';
import { applyRope, ropeFormula, ropeInvFreq, ropeTables } from './rope';
import { tinyConfig } from './testing/tinyModels';

const TOL = 1e-5;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** max |a − b| / max(1, max |b|) over two tensors of the same shape. */
function relDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => {
    const scale = Math.max(1, b.abs().max().dataSync()[0]);
    return tf.sub(a, b).abs().max().dataSync()[0] / scale;
  });
}

/**
 * Value and gradients of Σ f(xs)·dy under fused and reference formulas; prints and returns the
 * largest relative difference.
 */
function compare(
  name: string,
  fused: (...xs: tf.Tensor[]) => tf.Tensor,
  plain: (...xs: tf.Tensor[]) => tf.Tensor,
  xs: tf.Tensor[],
): number {
  return tf.tidy(() => {
    const yf = fused(...xs),
      yp = plain(...xs);
    const dy = tf.randomNormal(yp.shape, 0, 1, 'float32', 7);
    const gf = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(fused(...a), dy)))(xs);
    const gp = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(plain(...a), dy)))(xs);
    // A gradient that is zero in both formulas would compare equal vacuously.
    gp.forEach((g) => expect(g.abs().max().dataSync()[0]).toBeGreaterThan(1e-3));
    const diffs = [relDiff(yf, yp), ...gf.map((g, i) => relDiff(g, gp[i]))];
    console.log(
      `${name}: max rel diff value ${diffs[0].toExponential(2)}, grads ${diffs
        .slice(1)
        .map((d) => d.toExponential(2))
        .join(', ')} (tolerance ${TOL})`,
    );
    return Math.max(...diffs);
  });
}

describe('fused ops match plain autodiff', () => {
  it('swiglu: silu(gate)·up and d gate, d up', () => {
    const gate = tf.randomNormal([12, 20], 0, 2, 'float32', 1);
    const up = tf.randomNormal([12, 20], 0, 1, 'float32', 2);
    const d = compare(
      'swiglu',
      (g, u) => swiglu(g as tf.Tensor2D, u as tf.Tensor2D),
      (g, u) => tf.mul(tf.mul(g, tf.sigmoid(g)), u),
      [gate, up],
    );
    expect(d).toBeLessThanOrEqual(TOL);
  });

  it('rmsNorm: value, dx and dw on a 3-D input', () => {
    const x = tf.randomNormal([2, 5, 16], 0, 1.5, 'float32', 3);
    const w = tf.randomNormal([16], 1, 0.3, 'float32', 4);
    const eps = 1e-5;
    const plain = (a: tf.Tensor, b: tf.Tensor) =>
      tf.mul(tf.mul(a, tf.rsqrt(tf.add(tf.mean(tf.square(a), -1, true), eps))), b);
    const d = compare('rmsNorm', (a, b) => rmsNorm(a, b as tf.Tensor1D, eps), plain, [x, w]);
    expect(d).toBeLessThanOrEqual(TOL);
  });

  it('rmsNorm: dw through a trainable variable (full FT)', () => {
    const x = tf.randomNormal([6, 8], 0, 1, 'float32', 5);
    const w = tf.variable(tf.randomNormal([8], 1, 0.3, 'float32', 6)) as tf.Variable<tf.Rank.R1>;
    const dy = tf.randomNormal([6, 8], 0, 1, 'float32', 8);
    const fused = tf.variableGrads(() => tf.sum(tf.mul(rmsNorm(x, w, 1e-6), dy)) as tf.Scalar, [w]);
    const plain = tf.variableGrads(
      () =>
        tf.sum(tf.mul(tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), 1e-6))), w), dy)) as tf.Scalar,
      [w],
    );
    expect(plain.grads[w.name].abs().max().dataSync()[0]).toBeGreaterThan(1e-3);
    const d = relDiff(fused.grads[w.name], plain.grads[w.name]);
    console.log(`rmsNorm variable dw: max rel diff ${d.toExponential(2)} (tolerance ${TOL})`);
    expect(d).toBeLessThanOrEqual(TOL);
    tf.dispose([w, x, dy, fused.value, plain.value, ...Object.values(fused.grads), ...Object.values(plain.grads)]);
  });

  it('groupedAttention: q, k, v through grouped heads, a causal mask with a cached past', () => {
    const [B, Hkv, R, T, past, hd] = [2, 2, 3, 4, 2, 8];
    const S = past + T;
    const band = new Float32Array(T * S);
    for (let t = 0; t < T; t++) for (let s = past + t + 1; s < S; s++) band[t * S + s] = -Infinity;
    const mask = tf.tensor2d(band, [T, S]);
    const q = tf.randomNormal([B, Hkv, R * T, hd], 0, 1, 'float32', 12);
    const k = tf.randomNormal([B, Hkv, S, hd], 0, 1, 'float32', 13);
    const v = tf.randomNormal([B, Hkv, S, hd], 0, 1, 'float32', 14);
    // Plain formula: every query head attends through its own copy of the group's k and v.
    const repeat = (t: tf.Tensor) =>
      tf.concat(
        Array.from({ length: R }, () => tf.expandDims(t, 2)),
        2,
      ); // [B, Hkv, R, S, hd]
    const plain = (qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor) => {
      const scores = tf.matMul(qq.reshape([B, Hkv, R, T, hd]), repeat(kk), false, true); // [B, Hkv, R, T, S]
      const p = tf.softmax(tf.add(tf.mul(scores, 0.3), mask), -1);
      return tf.matMul(p, repeat(vv)).reshape([B, Hkv, R * T, hd]);
    };
    const d = compare(
      'groupedAttention',
      (qq, kk, vv) => groupedAttention(qq as tf.Tensor4D, kk as tf.Tensor4D, vv as tf.Tensor4D, mask, R, 0.3),
      plain,
      [q, k, v],
    );
    expect(d).toBeLessThanOrEqual(TOL);
    // gemma3_text: scores soft-capped to c·tanh(s / c) before the mask.
    const c = 1.5;
    const cappedPlain = (qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor) => {
      const scores = tf.matMul(qq.reshape([B, Hkv, R, T, hd]), repeat(kk), false, true); // [B, Hkv, R, T, S]
      const capped = tf.mul(tf.tanh(tf.div(tf.mul(scores, 0.3), c)), c);
      return tf.matMul(tf.softmax(tf.add(capped, mask), -1), repeat(vv)).reshape([B, Hkv, R * T, hd]);
    };
    const dc = compare(
      'groupedAttention soft-capped',
      (qq, kk, vv) => groupedAttention(qq as tf.Tensor4D, kk as tf.Tensor4D, vv as tf.Tensor4D, mask, R, 0.3, c),
      cappedPlain,
      [q, k, v],
    );
    expect(dc).toBeLessThanOrEqual(TOL);
  });

  it('gegluTanh, softcap and scaleBy (qwen3 / gemma3_text ops)', () => {
    const gate = tf.randomNormal([12, 20], 0, 2, 'float32', 3);
    const up = tf.randomNormal([12, 20], 0, 1, 'float32', 4);
    const geluTanh = (g: tf.Tensor) =>
      tf.mul(
        tf.mul(0.5, g),
        tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(g, tf.mul(0.044715, tf.pow(g, 3)))))),
      );
    const d1 = compare(
      'gegluTanh',
      (g, u) => gegluTanh(g as tf.Tensor2D, u as tf.Tensor2D),
      (g, u) => tf.mul(geluTanh(g), u),
      [gate, up],
    );
    const x = tf.randomNormal([6, 10], 0, 4, 'float32', 5);
    const d2 = compare(
      'softcap',
      (a) => softcap(a, 3),
      (a) => tf.mul(tf.tanh(tf.div(a, 3)), 3),
      [x],
    );
    const d3 = compare(
      'scaleBy',
      (a) => scaleBy(a, 25.3),
      (a) => tf.mul(a, 25.3),
      [x],
    );
    expect(Math.max(d1, d2, d3)).toBeLessThanOrEqual(TOL);
  });

  it('applyRope: the rotation and its transpose, with offset tables', () => {
    const config = tinyConfig({ headDim: 8 });
    const { cos, sin } = ropeTables(ropeInvFreq(config), 3, 5); // positions 3…7, [5, 8]
    const x = tf.randomNormal([2, 3, 5, 8], 0, 1, 'float32', 11);
    const d = compare(
      'applyRope',
      (a) => applyRope(a as tf.Tensor4D, cos, sin),
      (a) => ropeFormula(a as tf.Tensor4D, cos, sin),
      [x],
    );
    expect(d).toBeLessThanOrEqual(TOL);
  });

  it('transpose and residualAdd: values and gradients of the plain ops', () => {
    const x = tf.randomNormal([2, 3, 4, 5], 0, 1, 'float32', 15);
    const y = tf.randomNormal([2, 3, 4, 5], 0, 1, 'float32', 16);
    expect(
      compare(
        'transpose',
        (a) => transpose(a, [0, 2, 3, 1]),
        (a) => tf.transpose(a, [0, 2, 3, 1]),
        [x],
      ),
    ).toBeLessThanOrEqual(TOL);
    // A residual block reuses its input: a + f(a) must accumulate both branches' gradients.
    expect(
      compare(
        'residualAdd',
        (a, b) => residualAdd(a, tf.mul(a, b)),
        (a, b) => tf.add(a, tf.mul(a, b)),
        [x, y],
      ),
    ).toBeLessThanOrEqual(TOL);
  });

  it('reshape: value and gradient are a plain reshape', () => {
    const x = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 10);
    const d = compare(
      'reshape',
      (a) => reshape(a, [6, 4]),
      (a) => tf.reshape(a, [6, 4]),
      [x],
    );
    expect(d).toBeLessThanOrEqual(TOL);
  });
});
