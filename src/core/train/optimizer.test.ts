// AdamW and SGD against a float64 hand computation of three updates (torch.optim semantics).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createOptimizer } from './optimizer';
import type { OptimizerSettings } from './optimizerSettings';

const SHAPES: number[][] = [[3, 4], [5]];
const LRS = [0.1, 0.05, 0.02];

/** Deterministic values in [-1, 1). */
function values(n: number, seed: number): Float64Array {
  let s = seed;
  return Float64Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648) * 2 - 1;
  });
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const initial = SHAPES.map((sh, i) => values(size(sh), 100 + i));
const gradsAt = (t: number) => SHAPES.map((sh, i) => values(size(sh), 1000 * (t + 1) + i));

/** float64 torch.optim.AdamW. */
function referenceAdamW(s: { beta1: number; beta2: number; epsilon: number; weightDecay: number }): Float64Array[] {
  const p = initial.map((a) => Float64Array.from(a));
  const m = p.map((a) => new Float64Array(a.length));
  const v = p.map((a) => new Float64Array(a.length));
  LRS.forEach((lr, t) => {
    const g = gradsAt(t);
    const bc1 = 1 - s.beta1 ** (t + 1);
    const bc2 = 1 - s.beta2 ** (t + 1);
    p.forEach((pi, i) => {
      for (let j = 0; j < pi.length; j++) {
        pi[j] *= 1 - lr * s.weightDecay;
        m[i][j] = s.beta1 * m[i][j] + (1 - s.beta1) * g[i][j];
        v[i][j] = s.beta2 * v[i][j] + (1 - s.beta2) * g[i][j] ** 2;
        const mHat = m[i][j] / bc1;
        const vHat = v[i][j] / bc2;
        pi[j] -= (lr * mHat) / (Math.sqrt(vHat) + s.epsilon);
      }
    });
  });
  return p;
}

/** float64 torch.optim.SGD (dampening 0). */
function referenceSgd(s: { momentum: number; weightDecay: number }): Float64Array[] {
  const p = initial.map((a) => Float64Array.from(a));
  const buf = p.map((a) => new Float64Array(a.length));
  LRS.forEach((lr, t) => {
    const g = gradsAt(t);
    p.forEach((pi, i) => {
      for (let j = 0; j < pi.length; j++) {
        let d = g[i][j] + s.weightDecay * pi[j];
        if (s.momentum > 0) {
          d = t === 0 ? d : s.momentum * buf[i][j] + d;
          buf[i][j] = d;
        }
        pi[j] -= lr * d;
      }
    });
  });
  return p;
}

function runTf(settings: OptimizerSettings): Float32Array[] {
  const vars = SHAPES.map((sh, i) => tf.tidy(() => tf.variable(tf.tensor(Float32Array.from(initial[i]), sh))));
  const opt = createOptimizer(vars, settings);
  LRS.forEach((lr, t) => {
    const g = gradsAt(t);
    const grads = Object.fromEntries(vars.map((v, i) => [v.name, tf.tensor(Float32Array.from(g[i]), SHAPES[i])]));
    opt.apply(grads, lr);
    tf.dispose(Object.values(grads));
  });
  const out = vars.map((v) => v.dataSync() as Float32Array);
  opt.dispose();
  tf.dispose(vars);
  return out;
}

function maxDiff(a: ArrayLike<number>[], b: ArrayLike<number>[]): number {
  let d = 0;
  a.forEach((ai, i) => {
    for (let j = 0; j < ai.length; j++) d = Math.max(d, Math.abs(ai[j] - b[i][j]));
  });
  return d;
}

describe('optimizers', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('AdamW matches torch.optim.AdamW over three updates (decoupled weight decay)', () => {
    const s = { beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1 };
    const before = tf.memory().numTensors;
    const got = runTf({ kind: 'adamw', ...s });
    const want = referenceAdamW(s);
    const d = maxDiff(got, want);
    console.log(`AdamW 3 steps: max |tfjs - float64| = ${d.toExponential(2)} (tol 1e-6)`);
    expect(d).toBeLessThan(1e-6);
    // The decay must actually have acted: without it the result differs.
    expect(maxDiff(want, referenceAdamW({ ...s, weightDecay: 0 }))).toBeGreaterThan(1e-4);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('AdamW uses the epsilon it is given', () => {
    const s = { beta1: 0.9, beta2: 0.95, epsilon: 0.5, weightDecay: 0 };
    const d = maxDiff(runTf({ kind: 'adamw', ...s }), referenceAdamW(s));
    console.log(`AdamW eps=0.5: max diff ${d.toExponential(2)} (tol 1e-6)`);
    expect(d).toBeLessThan(1e-6);
  });

  it('SGD matches torch.optim.SGD, plain and with momentum and weight decay', () => {
    for (const s of [
      { momentum: 0, weightDecay: 0 },
      { momentum: 0.9, weightDecay: 0.01 },
    ]) {
      const d = maxDiff(runTf({ kind: 'sgd', ...s }), referenceSgd(s));
      console.log(`SGD momentum=${s.momentum} wd=${s.weightDecay}: max diff ${d.toExponential(2)} (tol 1e-6)`);
      expect(d).toBeLessThan(1e-6);
    }
  });

  it('exports and restores its state so a resumed run continues identically', async () => {
    const settings: OptimizerSettings = { kind: 'adamw', beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0 };
    const make = () => SHAPES.map((sh, i) => tf.variable(tf.tensor(Float32Array.from(initial[i]), sh)));
    const step = (vars: tf.Variable[], opt: ReturnType<typeof createOptimizer>, t: number) => {
      const grads = Object.fromEntries(
        vars.map((v, i) => [v.name, tf.tensor(Float32Array.from(gradsAt(t)[i]), SHAPES[i])]),
      );
      opt.apply(grads, LRS[t]);
      tf.dispose(Object.values(grads));
    };
    const a = make();
    const optA = createOptimizer(a, settings);
    [0, 1, 2].forEach((t) => step(a, optA, t));

    const b = make();
    const optB = createOptimizer(b, settings);
    [0, 1].forEach((t) => step(b, optB, t));
    const saved = await optB.state();
    expect(saved.step).toBe(2);
    const c = b.map((v) => tf.variable(v.clone()));
    const optC = createOptimizer(c, settings);
    optC.loadState(saved);
    step(c, optC, 2);
    const d = maxDiff(
      a.map((v) => v.dataSync()),
      c.map((v) => v.dataSync()),
    );
    console.log(`AdamW resume: max diff ${d} (tol 0)`);
    expect(d).toBe(0);
    expect(() => createOptimizer(c, { kind: 'sgd', momentum: 0, weightDecay: 0 }).loadState(saved)).toThrow(/adamw/);
    [optA, optB, optC].forEach((o) => o.dispose());
    tf.dispose([...a, ...b, ...c]);
  });
});
