// "Scale out" through the worker's session in Node: the PyTorch recipe zip holds the template
// scripts, run.json with the model's fingerprint and the training settings, the session's
// selection, and the training split's rows with the studio's loss masking; and the export is
// refused, with a reason, when a piece is missing. LoRA and full fine-tuning export too: LoRA with
// the adapter training would start from, full with neither selection nor adapter.
import * as tf from '@tensorflow/tfjs';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSelectionFile } from '../src/core/s2ft/selectionFile';
import type { DataSummary, ModelSummary, SelectionSummary } from '../workers/api';
import { BUILTIN_TINY, fixtureConfig, makeStudio, trainConfig, type Studio } from './workerFixtures';

let studio: Studio;
let model: ModelSummary;
let data: DataSummary;
let selection: SelectionSummary;
const decoder = new TextDecoder();

beforeAll(async () => {
  await tf.setBackend('cpu');
  studio = await makeStudio();
  model = await studio.session.loadModel(BUILTIN_TINY);
  data = await studio.session.loadData({ kind: 'builtin', path: 'train.txt' }, { validationFraction: 0.2, seed: 0 });
  selection = await studio.session.select({
    strategy: 'random',
    pick: 'large',
    budget: { kind: 'perLayer', heads: 1, channels: 5 },
    modules: { oProj: true, downProj: true, vProj: false, upProj: false },
    seed: 7,
  });
});

afterAll(() => studio.session.dispose());

describe('exportRecipe', () => {
  it('zips the recipe folder for the current model, data, selection and settings', async () => {
    const config = trainConfig({
      steps: 7,
      lr: 3e-3,
      batchSize: 2,
      seqLen: 10,
      optimizer: 'sgd',
      weightDecay: 0.01,
      warmup: 2,
      schedule: 'cosine',
      gradClip: 0.5,
      seed: 5,
    });
    const file = await studio.session.exportRecipe(config);
    expect(file.fileName).toBe('tiny-s2ft-recipe.zip');
    const zip = unzipSync(new Uint8Array(file.bytes));
    const text = (name: string) => {
      const bytes = zip[`tiny-s2ft-recipe/${name}`];
      if (!bytes) throw new Error(`${name} missing from the zip: ${Object.keys(zip).join(', ')}`);
      return decoder.decode(bytes);
    };
    console.log(`recipe zip: ${file.bytes.byteLength} bytes, ${Object.keys(zip).length} files`);

    expect(text('train.py')).toContain('torch.distributed');
    for (const name of ['model.py', 's2ft.py', 'data.py', 'adapter.py', 'safetensors_io.py', 'requirements.txt'])
      expect(text(name).length).toBeGreaterThan(0);

    const run = JSON.parse(text('run.json'));
    expect(run.model).toEqual({ path: 'tiny', name: 'tiny', fingerprint: model.fingerprint });
    expect(run.selection.info).toEqual({ strategy: 'random', pick: 'large', seed: 7 });
    expect(run.training).toMatchObject({
      method: 's2ft',
      lr: 3e-3,
      steps: 7,
      batch_size: 2,
      grad_accum: 1,
      seq_len: 10,
      warmup: 2,
      schedule: 'cosine',
      grad_clip: 0.5,
      seed: 5,
      data: 'train.txt',
    });
    expect(run.training.optimizer).toMatchObject({ kind: 'sgd', weightDecay: 0.01 });
    expect(run.data).toMatchObject({ path: 'train.tokens.jsonl', pack: true, eos_token_id: 1 });

    expect(readSelectionFile(text('selection.json'), fixtureConfig(), 'selection.json')).toEqual(selection.selection);
    expect(JSON.parse(text('selection.json'))).toEqual(JSON.parse(selection.selectionFile));

    // The training split of the .txt file: packed text, every token a target.
    const rows = text('train.tokens.jsonl')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { input_ids: number[]; labels: number[] });
    expect(rows.length).toBe(data.counts.trainExamples);
    for (const row of rows) {
      expect(row.input_ids.length).toBeGreaterThan(0);
      expect(row.labels).toEqual(row.input_ids);
    }
    expect(text('README.md')).toMatch(/--model DIR/);
    expect(text('README.md')).toContain(model.fingerprint);
  });

  it('exports the LoRA and full fine-tuning baselines', async () => {
    const lora = unzipSync(new Uint8Array((await studio.session.exportRecipe(trainConfig({ method: 'lora' }))).bytes));
    expect(Object.keys(lora).sort()).toEqual(
      expect.arrayContaining(['tiny-lora-recipe/lora_init/adapter_config.json', 'tiny-lora-recipe/lora.py']),
    );
    expect(Object.keys(lora).some((name) => name.endsWith('selection.json'))).toBe(false);
    const config = JSON.parse(decoder.decode(lora['tiny-lora-recipe/lora_init/adapter_config.json'])) as { r: number };
    expect(config.r).toBe(trainConfig({ method: 'lora' }).loraRank);
    const full = unzipSync(new Uint8Array((await studio.session.exportRecipe(trainConfig({ method: 'full' }))).bytes));
    const run = JSON.parse(decoder.decode(full['tiny-full-recipe/run.json'])) as Record<string, unknown>;
    expect(run).toMatchObject({ out: 'fine-tuned-model', training: { method: 'full' } });
    expect(Object.keys(full).some((name) => name.includes('lora_init') || name.endsWith('selection.json'))).toBe(false);
  });

  it('refuses a session without model, data or (for S²FT) selection', async () => {
    const bare = await makeStudio();
    try {
      await expect(bare.session.exportRecipe(trainConfig())).rejects.toThrow(/load a model first/);
      await bare.session.loadModel(BUILTIN_TINY);
      await expect(bare.session.exportRecipe(trainConfig())).rejects.toThrow(/load a dataset/);
      await bare.session.loadData({ kind: 'builtin', path: 'train.txt' }, { validationFraction: 0.2, seed: 0 });
      await expect(bare.session.exportRecipe(trainConfig())).rejects.toThrow(/choose heads and channels/);
    } finally {
      bare.session.dispose();
    }
  });
});
