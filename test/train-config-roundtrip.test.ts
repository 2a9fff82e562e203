// One training config from the studio's link to the PyTorch recipe and back: every field of the
// core's TrainConfig is set away from its default, goes through the URL hash, the worker session
// (whose trainer's learning rates, evaluations, samples and checkpoints show which settings it
// ran with) and the recipe's run.json, and comes back unchanged.
import * as tf from '@tensorflow/tfjs';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, decodeSettingsHash, encodeSettingsHash, type StudioSettings } from '../src/app/settings';
import { pickTrainConfig, TRAIN_KEYS, trainConfigFromJson, type TrainConfig } from '../src/core/train/config';
import { learningRate } from '../src/core/train/schedule';
import type { TrainEvent } from '../workers/api';
import { readyStudio, type Studio } from './workerFixtures';

let studio: Studio;

beforeAll(async () => {
  await tf.setBackend('cpu');
  studio = await readyStudio();
});

afterAll(() => studio.session.dispose());

const chosen: TrainConfig = {
  method: 'lora',
  steps: 5,
  lr: 0.02,
  warmup: 2,
  schedule: 'cosine',
  optimizer: 'sgd',
  weightDecay: 0.05,
  gradClip: 0.5,
  batchSize: 4,
  gradAccum: 2,
  seqLen: 10,
  seed: 9,
  loraRank: 3,
  loraAlpha: 5,
  loraDropout: 0.1,
  evalEvery: 2,
  sampleEvery: 3,
  sampleTokens: 3,
  checkpointEvery: 2,
};

describe('training config round trip', () => {
  it('URL → worker → trainer → recipe → URL keeps every setting', async () => {
    const settings: StudioSettings = { ...DEFAULT_SETTINGS, ...chosen };
    for (const key of TRAIN_KEYS) expect(settings[key], key).not.toEqual(DEFAULT_SETTINGS[key]);

    // URL
    const fromLink = decodeSettingsHash(encodeSettingsHash(settings));
    expect(fromLink.problems).toEqual([]);
    const config = pickTrainConfig(fromLink.settings);
    expect(config).toEqual(chosen);

    // worker and trainer
    const events: TrainEvent[] = [];
    const summary = await studio.session.train({ ...config, samplePrompts: ['hello'], name: 'round trip' }, (e) =>
      events.push(e),
    );
    expect(summary.status).toBe('done');
    expect(pickTrainConfig(summary.settings)).toEqual(chosen);
    const lrs = events.flatMap((e) => (e.kind === 'step' ? [e.point.lr] : []));
    const expected = Array.from({ length: chosen.steps }, (_, i) =>
      learningRate(i, { peak: chosen.lr, warmup: chosen.warmup, total: chosen.steps, kind: chosen.schedule }),
    );
    console.log(`round trip: the worker's trainer ran lr ${lrs.map((x) => x.toPrecision(4)).join(', ')}`);
    expect(lrs).toEqual(expected);
    expect(events.flatMap((e) => (e.kind === 'eval' ? [e.point.step] : []))).toEqual([0, 2, 4, 5]);
    expect(events.flatMap((e) => (e.kind === 'samples' ? [e.step] : []))).toEqual([0, 3, 5]);
    expect(events.flatMap((e) => (e.kind === 'checkpoint' ? [e.step] : []))).toEqual([2, 4]);

    // recipe (a LoRA one: its lora_init/ is the adapter the trainer started from)
    const file = await studio.session.exportRecipe(config);
    const zip = unzipSync(new Uint8Array(file.bytes));
    expect(Object.keys(zip).some((name) => name.endsWith('/lora_init/adapter_model.safetensors'))).toBe(true);
    const runJson = Object.entries(zip).find(([name]) => name.endsWith('/run.json'))![1];
    const run = JSON.parse(new TextDecoder().decode(runJson)) as { training: Record<string, unknown> };
    const fromRecipe = trainConfigFromJson(run.training, 'run.json');
    expect(fromRecipe).toEqual(chosen);

    // and back into a link
    const back = decodeSettingsHash(encodeSettingsHash({ ...fromLink.settings, ...fromRecipe }));
    expect(back.settings).toEqual(settings);
  });
});
