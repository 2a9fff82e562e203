// The trainer on a tiny model with a minimal full-fine-tuning test double: the loss falls,
// accumulation equals one big batch, clipping scales the update, NaN stops without updating.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../errors';
import { defaultLinear } from '../model/llama';
import { disposeWeights, initWeights } from '../model/init';
import { MODULE_NAMES, type LinearFn, type LlamaWeights, type ModelConfig } from '../model/types';
import { tinyConfig } from '../model/testing/tinyModels';
import type { Batch } from './batch';
import { nextTokenLabels } from './loss';
import type { PreparedMethod } from './method';
import { prepareMethod } from './methods';
import { trainConfig, type TrainConfig } from './config';
import { Trainer, type BatchFeed } from './trainer';

/** Full FT as a test double: every decoder linear weight becomes a trainable variable. */
function fullDouble(base: LlamaWeights, linear: LinearFn = defaultLinear): PreparedMethod {
  const trainable: tf.Variable[] = [];
  const layers = base.layers.map((layer) => {
    const lin = { ...layer.linear };
    for (const m of MODULE_NAMES) {
      const v = tf.tidy(() => tf.variable(layer.linear[m].clone()));
      trainable.push(v);
      lin[m] = v as tf.Tensor2D as tf.Variable<tf.Rank.R2>;
    }
    return { ...layer, linear: lin };
  });
  const params = trainable.reduce((n, v) => n + v.size, 0);
  return {
    name: 'full',
    trainable,
    weights: { ...base, layers },
    linear,
    stats: () => ({ trainableParams: params, trainableBytes: 4 * params }),
    dispose: () => tf.dispose(trainable),
  };
}

/** Rows of a repeating pattern (learnable), as batches of `rows` × T. */
function makeBatch(rowIds: number[][], T: number): Batch {
  const inputIds = new Int32Array(rowIds.length * T);
  const labels = new Int32Array(rowIds.length * T);
  rowIds.forEach((ids, b) => {
    inputIds.set(ids.slice(0, T), b * T);
    labels.set(nextTokenLabels(ids.slice(0, T + 1)).slice(0, T), b * T);
  });
  return { batchSize: rowIds.length, seqLen: T, inputIds, labels };
}

const patternRow = (start: number, len: number, V: number) =>
  Array.from({ length: len }, (_, t) => (start + 3 * t) % V);

/** Cycles through the given batches. */
function feedOf(batches: Batch[]): BatchFeed {
  let i = 0;
  return { next: () => batches[i++ % batches.length] };
}

const settings = (over: Partial<TrainConfig>): TrainConfig =>
  trainConfig({ steps: 1, lr: 0.1, schedule: 'constant', gradClip: 0, optimizer: 'sgd', batchSize: 2, ...over });

async function values(vars: tf.Tensor[]): Promise<Float32Array[]> {
  return Promise.all(vars.map(async (v) => new Float32Array(await v.data())));
}

function maxAbsDiff(a: Float32Array[], b: Float32Array[]): number {
  let d = 0;
  a.forEach((ai, i) =>
    ai.forEach((x, j) => {
      d = Math.max(d, Math.abs(x - b[i][j]));
    }),
  );
  return d;
}

describe('Trainer', () => {
  let config: ModelConfig;
  let base: LlamaWeights;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    config = tinyConfig({ hiddenSize: 16, intermediateSize: 24, numHeads: 2, numKvHeads: 1 });
    base = initWeights(config, 7, { std: 0.1 });
  });
  afterAll(() => disposeWeights(base));

  it('lowers the loss over 30 AdamW steps, evaluates, reports metrics and leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const T = 12;
    const train = [
      makeBatch([patternRow(0, T + 1, 50), patternRow(5, T + 1, 50)], T),
      makeBatch([patternRow(9, T + 1, 50), patternRow(14, T + 1, 50)], T),
    ];
    const validation = [makeBatch([patternRow(20, T + 1, 50)], T)];
    const prepared = fullDouble(base);
    const trainer = new Trainer(
      prepared,
      config,
      feedOf(train),
      settings({
        steps: 30,
        lr: 3e-2,
        warmup: 3,
        schedule: 'cosine',
        gradClip: 1,
        evalEvery: 10,
        optimizer: 'adamw',
      }),
      validation,
    );
    const first = await trainer.evaluate();
    const seen: number[] = [];
    const result = await trainer.run({
      onStep: (m) => {
        seen.push(m.step);
      },
    });
    const losses = result.history.map((m) => m.loss);
    console.log(
      `loss step1 ${losses[0].toFixed(4)} → step30 ${losses[29].toFixed(4)}; eval ${first.loss.toFixed(4)} → ` +
        result.evals.map((e) => e.loss.toFixed(4)).join(', '),
    );
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(losses[29]).toBeLessThan(0.75 * losses[0]);
    expect(result.evals.map((e) => e.step)).toEqual([10, 20, 30]);
    expect(result.evals[2].loss).toBeLessThan(first.loss);
    const m = result.history[5];
    expect(m.lr).toBeCloseTo(3e-2 * 0.5 * (1 + Math.cos((Math.PI * 2) / 27)), 10);
    expect(m.tokens).toBe(2 * T);
    expect(m.targetTokens).toBe(2 * T);
    expect(m.gradNorm).toBeGreaterThan(0);
    expect(m.tokensPerSec).toBeGreaterThan(0);
    expect(m.bytesInUse).toBeGreaterThan(0);
    // The peak of a step holds at least the trainable copies, their gradients and Adam's two moments.
    expect(m.peakBytes).toBeGreaterThan(4 * prepared.stats().trainableBytes);
    trainer.dispose();
    prepared.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gives the same SGD update for 2 micro-batches of B/2 as for one batch of B (unequal target counts)', async () => {
    const T = 8;
    const rows = [patternRow(1, T + 1, 50), patternRow(4, T + 1, 50), patternRow(7, T + 1, 50), patternRow(2, 5, 50)];
    // The last row is short: padded labels make the two halves count different numbers of positions.
    const padded = rows.map((r) => [...r, ...Array(T + 1 - r.length).fill(0)]);
    const full = makeBatch(padded, T);
    for (let t = 4; t < T; t++) full.labels[3 * T + t] = -100;
    const half = (b0: number): Batch => ({
      batchSize: 2,
      seqLen: T,
      inputIds: full.inputIds.slice(b0 * T, (b0 + 2) * T),
      labels: full.labels.slice(b0 * T, (b0 + 2) * T),
    });

    const one = fullDouble(base);
    const t1 = new Trainer(one, config, feedOf([full]), settings({ lr: 0.5 }));
    const m1 = await t1.step();
    const two = fullDouble(base);
    const t2 = new Trainer(two, config, feedOf([half(0), half(2)]), settings({ lr: 0.5, gradAccum: 2 }));
    const m2 = await t2.step();
    const d = maxAbsDiff(await values(one.trainable), await values(two.trainable));
    const moved = maxAbsDiff(
      await values(one.trainable),
      await values(base.layers.flatMap((l) => MODULE_NAMES.map((m) => l.linear[m]))),
    );
    console.log(
      `accumulation 2×(B/2) vs 1×B: max param diff ${d.toExponential(2)} (tol 1e-6), ` +
        `update size ${moved.toExponential(2)}; loss ${m1.loss} vs ${m2.loss}`,
    );
    expect(moved).toBeGreaterThan(1e-3);
    expect(d).toBeLessThan(1e-6);
    expect(Math.abs(m1.loss - m2.loss)).toBeLessThan(1e-6);
    expect(m2.targetTokens).toBe(m1.targetTokens);
    [t1, t2].forEach((t) => t.dispose());
    [one, two].forEach((p) => p.dispose());
  });

  it('clips the gradient by its global norm: the SGD update shrinks by clip / norm', async () => {
    const T = 8;
    const batch = makeBatch([patternRow(3, T + 1, 50), patternRow(11, T + 1, 50)], T);
    const initial = await values(base.layers.flatMap((l) => MODULE_NAMES.map((m) => l.linear[m])));
    const update = async (gradClip: number) => {
      const p = fullDouble(base);
      const tr = new Trainer(p, config, feedOf([batch]), settings({ lr: 0.1, gradClip }));
      const m = await tr.step();
      const after = await values(p.trainable);
      tr.dispose();
      p.dispose();
      return { m, delta: after.map((a, i) => a.map((x, j) => x - initial[i][j])) };
    };
    const free = await update(0);
    const clip = free.m.gradNorm / 4;
    const clipped = await update(clip);
    const scale = clip / (free.m.gradNorm + 1e-6);
    const want = free.delta.map((d) => d.map((x) => x * scale));
    const d = maxAbsDiff(clipped.delta, want);
    console.log(
      `clip ${clip.toFixed(4)} of norm ${free.m.gradNorm.toFixed(4)}: max |Δclipped − scale·Δ| ${d.toExponential(2)} (tol 1e-7)`,
    );
    expect(d).toBeLessThan(1e-7);
    expect(clipped.m.gradNorm).toBeCloseTo(free.m.gradNorm, 5); // reported before clipping
    const loose = await update(free.m.gradNorm * 2); // above the norm: no change
    expect(maxAbsDiff(loose.delta, free.delta)).toBe(0);
  });

  it('stops with training-diverged on a NaN loss and keeps the last good parameters', async () => {
    let poison = false;
    const nanLinear: LinearFn = (x, w, b, site) => {
      const y = defaultLinear(x, w, b, site);
      return poison && site.layer === 1 && site.module === 'down_proj' ? tf.mul(y, NaN) : y;
    };
    const T = 8;
    const batch = makeBatch([patternRow(3, T + 1, 50), patternRow(11, T + 1, 50)], T);
    const p = fullDouble(base, nanLinear);
    const tr = new Trainer(p, config, feedOf([batch]), settings({ steps: 5, lr: 0.1 }));
    await tr.step();
    await tr.step();
    const good = await values(p.trainable);
    poison = true;
    const before = tf.memory().numTensors;
    const error = await tr.step().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).code).toBe('training-diverged');
    expect((error as UserError).message).toMatch(/step 3: the loss is NaN.*not applied.*lower learning rate/);
    console.log(`diverged: ${(error as UserError).message}`);
    expect(maxAbsDiff(await values(p.trainable), good)).toBe(0);
    expect(tr.stepsDone).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
    tr.dispose();
    p.dispose();
  });

  it('resumes from its state to the same parameters as an uninterrupted run', async () => {
    const T = 8;
    const batches = [makeBatch([patternRow(3, T + 1, 50)], T), makeBatch([patternRow(8, T + 1, 50)], T)];
    const s = settings({
      steps: 4,
      lr: 1e-2,
      optimizer: 'adamw',
      weightDecay: 0.1,
    });
    const a = fullDouble(base);
    const ta = new Trainer(a, config, feedOf(batches), s);
    await ta.run();
    const b = fullDouble(base);
    const tb = new Trainer(b, config, feedOf(batches), s);
    await tb.step();
    await tb.step();
    const saved = await tb.state();
    const c = fullDouble(base);
    const tc = new Trainer(c, config, feedOf(batches), s);
    tc.loadState(saved);
    await tc.run();
    const d = maxAbsDiff(await values(a.trainable), await values(c.trainable));
    console.log(`resume after 2 of 4 steps: max param diff ${d} (tol 0)`);
    expect(tc.stepsDone).toBe(4);
    expect(d).toBe(0);
    [ta, tb, tc].forEach((t) => t.dispose());
    [a, b, c].forEach((p) => p.dispose());
  });

  it('trains each real method (s2ft, lora, full) through the same loop; peak bytes order s2ft < full', async () => {
    const T = 12;
    const train = [makeBatch([patternRow(0, T + 1, 50), patternRow(5, T + 1, 50)], T)];
    const selection = {
      layers: [
        { heads: [0], channels: [1, 2, 3] },
        { heads: [1], channels: [4, 5] },
      ],
    };
    const peaks: Record<string, number> = {};
    for (const name of ['s2ft', 'lora', 'full'] as const) {
      const before = tf.memory().numTensors;
      const prepared = prepareMethod(name, { config, weights: base }, { selection, lora: { rank: 2 } });
      const trainer = new Trainer(
        prepared,
        config,
        feedOf(train),
        settings({
          steps: 12,
          lr: 2e-2,
          optimizer: 'adamw',
        }),
      );
      const { history } = await trainer.run();
      const [first, last] = [history[0], history[history.length - 1]];
      peaks[name] = last.peakBytes ?? 0;
      console.log(
        `${name}: loss ${first.loss.toFixed(4)} → ${last.loss.toFixed(4)}, peak ${peaks[name]} bytes, ` +
          `${prepared.stats().trainableParams} trainable`,
      );
      expect(last.loss).toBeLessThan(first.loss);
      trainer.dispose();
      prepared.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
    expect(peaks.s2ft).toBeLessThan(peaks.full);
  });

  it('reports no peak when memory profiling is off', async () => {
    const p = fullDouble(base);
    const tr = new Trainer(p, config, feedOf([makeBatch([patternRow(1, 9, 50)], 8)]), settings({}), [], {
      profileMemory: 'never',
    });
    expect((await tr.step()).peakBytes).toBeNull();
    tr.dispose();
    p.dispose();
  });
});
