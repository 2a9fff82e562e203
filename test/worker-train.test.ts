// Training through the worker's session in Node (tfjs cpu): each method lowers the loss with the
// events the Train panel draws (phases, steps, evals with the forgetting meter, samples from step
// 0); pause holds between steps, stop keeps the trained state; a divergence ends the run with
// phase 'error', a lower-learning-rate hint and the last good parameters.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StepPoint, TrainEvent } from '../workers/api';
import { readyStudio, trainConfig, type Studio } from './workerFixtures';

let studio: Studio;

beforeAll(async () => {
  await tf.setBackend('cpu');
  studio = await readyStudio();
});

afterAll(() => studio.session.dispose());

const steps = (events: TrainEvent[]): StepPoint[] => events.flatMap((e) => (e.kind === 'step' ? [e.point] : []));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('train', () => {
  for (const method of ['s2ft', 'lora', 'full'] as const) {
    it(`${method}: the loss falls and every step is reported`, async () => {
      const events: TrainEvent[] = [];
      const summary = await studio.session.train(
        trainConfig({ method, steps: 12, lr: method === 'full' ? 3e-3 : 2e-2 }),
        (e) => events.push(e),
      );
      const points = steps(events);
      const losses = points.map((p) => p.loss);
      console.log(
        `${method}: loss ${losses[0].toFixed(4)} → ${losses[losses.length - 1].toFixed(4)}, trainable ${summary.trainableParams}`,
      );
      expect(summary.status).toBe('done');
      expect(points.map((p) => p.step)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      expect(mean(losses.slice(-3))).toBeLessThan(mean(losses.slice(0, 3)) - 0.1);
      expect(summary.finalLoss).toBe(losses[11]);
      expect(points.every((p) => p.bytesInUse > 0 && p.numTensors > 0 && p.etaMs >= 0)).toBe(true);
      expect(points[0].peakBytes).toBeGreaterThan(0);
      const phases = events.flatMap((e) => (e.kind === 'phase' ? [e.phase] : []));
      expect(phases).toEqual(['loading', 'compiling', 'training', 'done']);
      // Evaluations at 0, 5, 10 and the last step; the forgetting meter starts at exactly 0.
      const evals = events.flatMap((e) => (e.kind === 'eval' ? [e.point] : []));
      expect(evals.map((e) => e.step)).toEqual([0, 5, 10, 12]);
      expect(evals[0].forgetting).toBe(0);
      expect(evals.every((e) => e.evalLoss !== null && e.heldoutLoss !== null)).toBe(true);
      expect(summary.forgettingDelta).toBe(evals[3].forgetting);
      expect(summary.adapterId === null).toBe(method === 'full');
    });
  }

  it("s2ft trains exactly the selected blocks: its parameter count is the selection's", async () => {
    const summary = await studio.session.train(trainConfig({ steps: 1 }), () => undefined);
    // 2 heads × hd 8 × D 32 + 8 channels × D 32, in each of 2 layers.
    expect(summary.trainableParams).toBe(2 * (2 * 8 * 32 + 8 * 32));
  });

  it('generates samples from the fixed prompts at step 0 and every sampleEvery steps', async () => {
    const events: TrainEvent[] = [];
    await studio.session.train(
      trainConfig({ steps: 4, sampleEvery: 2, samplePrompts: ['hello', 'world'], evalEvery: 0 }),
      (e) => events.push(e),
    );
    const samples = events.flatMap((e) => (e.kind === 'samples' ? [e] : []));
    expect(samples.map((s) => s.step)).toEqual([0, 2, 4]);
    expect(samples[0].samples.map((s) => s.prompt)).toEqual(['hello', 'world']);
    expect(samples.every((s) => s.samples.every((g) => typeof g.text === 'string'))).toBe(true);
    // With evalEvery 0 the only evaluations are before and after.
    expect(events.flatMap((e) => (e.kind === 'eval' ? [e.point.step] : []))).toEqual([0, 4]);
  });

  it('pause holds the run between steps, resume continues, stop keeps the trained state', async () => {
    const events: TrainEvent[] = [];
    let pausedAt = -1;
    let stepsWhilePaused = 0;
    const run = studio.session.train(trainConfig({ steps: 30, evalEvery: 0 }), (e) => {
      events.push(e);
      if (e.kind === 'step' && e.point.step === 3) {
        void studio.session.pause().then(async () => {
          pausedAt = steps(events).length;
          await new Promise((r) => setTimeout(r, 50));
          stepsWhilePaused = steps(events).length - pausedAt;
          await studio.session.resume();
        });
      }
      if (e.kind === 'step' && e.point.step === 6) void studio.session.stop();
    });
    const summary = await run;
    expect(pausedAt).toBe(3);
    expect(stepsWhilePaused).toBe(0);
    expect(summary.status).toBe('stopped');
    expect(summary.stepsDone).toBe(6);
    const phases = events.flatMap((e) => (e.kind === 'phase' ? [e.phase] : []));
    expect(phases).toEqual(['loading', 'compiling', 'training', 'paused', 'training', 'stopped']);
    // The stopped state is 'current' and differs from the base model.
    const base = await studio.session.generate('hello', { maxNewTokens: 6, adapters: 'base' });
    const current = await studio.session.generate('hello', { maxNewTokens: 6, adapters: 'current' });
    const trained = summary.adapterId
      ? await studio.session.generate('hello', { maxNewTokens: 6, adapters: summary.adapterId })
      : null;
    expect(trained?.ids).toEqual(current.ids);
    console.log(`generation base ${JSON.stringify(base.text)} vs trained ${JSON.stringify(current.text)}`);
  });

  it('a diverging run stops with phase error, a lower-learning-rate hint and the last good state', async () => {
    // Full FT with a huge SGD step: the embedding and norms blow up, the loss of step 2 is NaN.
    const wild = trainConfig({ method: 'full', optimizer: 'sgd', lr: 1e12, gradClip: 0, steps: 10, evalEvery: 0 });
    // The same settings run for one step only: the state a divergence at step 2 must keep.
    await studio.session.train({ ...wild, steps: 1 }, () => undefined);
    const afterOne = await studio.session.generate([0, 5, 6], { maxNewTokens: 3, adapters: 'current' });
    const events: TrainEvent[] = [];
    const summary = await studio.session.train(wild, (e) => events.push(e));
    expect(summary.status).toBe('error');
    expect(summary.error?.code).toBe('training-diverged');
    expect(summary.error?.message).toMatch(
      /the parameters are those after step 1\. Try a lower learning rate \(it was 1000000000000, e\.g\. 100000000000\)/,
    );
    const last = events[events.length - 1];
    expect(last.kind === 'phase' && last.phase).toBe('error');
    const good = steps(events);
    expect(good.every((p) => Number.isFinite(p.loss))).toBe(true);
    expect(summary.stepsDone).toBe(good.length);
    console.log(`diverged after ${good.length} good step(s): ${summary.error?.message}`);
    // The update that diverged was not applied: the kept state behaves as the one-step state.
    const kept = await studio.session.generate([0, 5, 6], { maxNewTokens: 3, adapters: 'current' });
    expect(good).toHaveLength(1);
    expect(kept.ids).toEqual(afterOne.ids);
  });

  it('refuses a second run while one is going, and training without a selection for S²FT', async () => {
    const first = studio.session.train(trainConfig({ steps: 3 }), () => undefined);
    await expect(studio.session.train(trainConfig(), () => undefined)).rejects.toThrow(/a run is in progress/);
    await first;
    await studio.session.loadModel({ kind: 'builtin', url: 'http://studio.test/models/tiny/' });
    await expect(studio.session.train(trainConfig(), () => undefined)).rejects.toThrow(
      /load a dataset before training/,
    );
  });

  it('holds tensor count flat across runs (no leaks)', async () => {
    const fresh = await readyStudio();
    await fresh.session.train(trainConfig({ steps: 2 }), () => undefined);
    const before = tf.memory().numTensors;
    for (const method of ['s2ft', 'lora', 'full'] as const) {
      await fresh.session.train(
        trainConfig({ method, steps: 3, sampleEvery: 2, samplePrompts: ['hello'] }),
        () => undefined,
      );
    }
    await fresh.session.train(trainConfig({ steps: 2 }), () => undefined);
    console.log(`tensors before ${before}, after ${tf.memory().numTensors}`);
    expect(tf.memory().numTensors).toBe(before);
    fresh.session.dispose();
  });
});
