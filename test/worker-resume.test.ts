// Resume after an interruption (issue 8): a run checkpointed at step k and continued in a new
// session (as after a page reload or a lost GPU) has exactly the losses of an uninterrupted run,
// for every method. A run on a model from the user's files asks for the same files again; one on
// a built-in model that changed since is refused, and the model loaded before stays.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MethodName } from '../src/core/train/method';
import type { TrainEvent } from '../workers/api';
import { memoryCheckpointStore } from '../workers/checkpoints';
import {
  asFiles,
  BUILTIN_TINY,
  checkpointFiles,
  fixtureConfig,
  makeStudio,
  readyStudio,
  trainConfig,
} from './workerFixtures';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const N = 8;
const K = 4;
const lossesOf = (events: TrainEvent[]) =>
  events.flatMap((e) => (e.kind === 'step' ? [[e.point.step, e.point.loss]] : []));
const evalsOf = (events: TrainEvent[]) =>
  events.flatMap((e) =>
    e.kind === 'eval' ? [[e.point.step, e.point.evalLoss, e.point.heldoutLoss, e.point.forgetting]] : [],
  );

describe('resumeTraining', () => {
  for (const method of ['s2ft', 'lora', 'full'] as MethodName[]) {
    it(`${method}: checkpoint at step ${K}, resume in a new session, the same losses to step ${N}`, async () => {
      const config = trainConfig({
        method,
        steps: N,
        evalEvery: K,
        lr: method === 'full' ? 3e-3 : 2e-2,
        schedule: 'cosine',
        warmup: 2,
      });

      const whole = await readyStudio();
      const uninterrupted: TrainEvent[] = [];
      await whole.session.train(config, (e) => uninterrupted.push(e));
      whole.session.dispose();

      const store = memoryCheckpointStore();
      const first = await readyStudio({ store });
      const before: TrainEvent[] = [];
      const stopped = await first.session.train({ ...config, checkpointEvery: K }, (e) => {
        before.push(e);
        if (e.kind === 'checkpoint') void first.session.stop();
      });
      first.session.dispose();
      expect(stopped.status).toBe('stopped');
      expect(stopped.stepsDone).toBe(K);
      const [saved] = await store.list();
      expect(saved.step).toBe(K);
      expect(saved.history.steps.map((p) => p.step)).toEqual([1, 2, 3, 4]);

      // A new session (nothing loaded) with the same store: the built-in model and data come back by themselves.
      const second = await makeStudio({ store });
      const after: TrainEvent[] = [];
      const resumed = await second.session.resumeTraining(saved.runId, (e) => after.push(e));
      expect(resumed.status).toBe('done');
      expect(resumed.stepsDone).toBe(N);

      const expected = lossesOf(uninterrupted);
      const got = [...lossesOf(before), ...lossesOf(after)];
      expect(got.map(([s]) => s)).toEqual(expected.map(([s]) => s));
      const maxDiff = Math.max(...got.map(([, l], i) => Math.abs(l - expected[i][1])));
      console.log(`${method}: resumed losses vs uninterrupted, max |diff| ${maxDiff} (tol 0: same arithmetic on cpu)`);
      expect(maxDiff).toBe(0);
      // The evaluation after the resume matches too, and the run's history spans all steps.
      expect(evalsOf(after).at(-1)).toEqual(evalsOf(uninterrupted).at(-1));
      expect(resumed.medianStepMs).not.toBeNull();
      // A finished run leaves no checkpoint behind.
      expect(await store.list()).toEqual([]);
      second.session.dispose();
    });
  }

  it('a run on a model from files asks for the same files again, then resumes', async () => {
    const store = memoryCheckpointStore();
    const files = asFiles('my-model', await checkpointFiles(fixtureConfig(), 3));
    const first = await makeStudio({ store });
    await first.session.loadModel({ kind: 'files', files });
    await first.session.loadData(
      { kind: 'file', name: 'mine.txt', text: 'hello world '.repeat(40) },
      { validationFraction: 0.1, seed: 0 },
    );
    await first.session.useSelectionFile(
      '{"layers":[{"heads":[0],"channels":[1,2]},{"heads":[3],"channels":[4]}]}',
      'sel.json',
    );
    await first.session.train(trainConfig({ steps: 4, checkpointEvery: 2 }), (e) => {
      if (e.kind === 'checkpoint') void first.session.stop();
    });
    first.session.dispose();
    const [saved] = await store.list();
    expect(saved.modelSource).toEqual({ kind: 'files', name: 'my-model' });

    const second = await makeStudio({ store, seed: 99 });
    await expect(second.session.resumeTraining(saved.runId, () => undefined)).rejects.toThrow(
      /trained on "my-model" \(fingerprint xxh64:[0-9a-f]{16}\) from your files; no model is loaded\. Load the same model folder again/,
    );
    await second.session.loadModel({ kind: 'files', files });
    const resumed = await second.session.resumeTraining(saved.runId, () => undefined);
    expect(resumed.stepsDone).toBe(4);
    expect(resumed.dataName).toBe('mine.txt');
    second.session.dispose();
  });

  it('a built-in model that changed since the run is refused, and the loaded model stays', async () => {
    const store = memoryCheckpointStore();
    const first = await readyStudio({ store });
    await first.session.train(trainConfig({ steps: 4, checkpointEvery: 2 }), (e) => {
      if (e.kind === 'checkpoint') void first.session.stop();
    });
    first.session.dispose();
    const [saved] = await store.list();

    // The app's public/models/tiny now holds other weights; the user has a model of their own loaded.
    const second = await makeStudio({ store, seed: 99 });
    await second.session.loadModel({
      kind: 'files',
      files: asFiles('my-model', await checkpointFiles(fixtureConfig(), 5)),
    });
    const greedy = () => second.session.generate([2, 3, 4], { maxNewTokens: 6 }).then((o) => o.ids);
    const before = await greedy();
    await expect(second.session.resumeTraining(saved.runId, () => undefined)).rejects.toThrow(
      /the built-in model at http:\/\/studio\.test\/models\/tiny\/ changed since run ".*" was saved \(fingerprint xxh64:[0-9a-f]{16}, the run's xxh64:[0-9a-f]{16}\)/,
    );
    // Still the user's model: the same greedy continuation (the changed built-in's differs, checked).
    expect(await greedy()).toEqual(before);
    await second.session.loadModel(BUILTIN_TINY);
    expect(await greedy()).not.toEqual(before);
    second.session.dispose();
  });
});
