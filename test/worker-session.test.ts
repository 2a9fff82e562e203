// The worker's session logic in Node (tfjs cpu): loading a model through the browser File path
// and the built-in URL path, refusing one that cannot fit, loading data with a token preview and
// line errors, selecting heads and channels, and the weight views before and after co-permutation.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../src/core/errors';
import { loadCheckpoint } from '../src/core/io/checkpoint';
import { memorySource } from '../src/core/io/fileSource';
import { disposeWeights } from '../src/core/model/init';
import type { ModuleName } from '../src/core/model/types';
import { coPermutation } from '../src/core/s2ft/copermute';
import { loraParams } from '../src/core/s2ft/budget';
import { BUILTIN_TINY, asFiles, checkpointFiles, fixtureConfig, makeStudio, type Studio } from './workerFixtures';

let studio: Studio;

/** The weight as the checkpoint file has it, read independently of the session. */
async function baseWeight(layer: number, module: ModuleName): Promise<number[][]> {
  const loaded = await loadCheckpoint(memorySource('tiny', await checkpointFiles(fixtureConfig(), 3)));
  const values = await loaded.weights.layers[layer].linear[module].array();
  disposeWeights(loaded.weights);
  return values;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  studio = await makeStudio();
});

afterAll(() => studio.session.dispose());

describe('loadModel', () => {
  it('loads the same model from picked files and from the built-in URL (same fingerprint)', async () => {
    const files = await checkpointFiles(fixtureConfig(), 3);
    const fromFiles = await studio.session.loadModel({ kind: 'files', files: asFiles('tiny-picked', files) });
    const progress: string[] = [];
    const fromUrl = await studio.session.loadModel(BUILTIN_TINY, (p) => progress.push(p.phase));
    expect(fromFiles.name).toBe('tiny-picked');
    expect(fromUrl.name).toBe('tiny');
    expect(fromUrl.fingerprint).toBe(fromFiles.fingerprint);
    expect(fromUrl.config.numLayers).toBe(2);
    expect(fromUrl.hasTokenizer).toBe(true);
    expect(fromUrl.hasChatTemplate).toBe(true);
    expect(fromUrl.heldout).toBe('heldout.txt');
    // 2 layers of (4·32·8·4 attention + 3·32·48 MLP + 2·32 norms) + 50·32 embedding + 32 norm + 50·32 lm_head
    const expected = 2 * (4 * 32 * 32 + 3 * 32 * 48 + 2 * 32) + 50 * 32 + 32 + 50 * 32;
    expect(fromUrl.paramCount).toBe(expected);
    expect(fromUrl.fp32Bytes).toBe(4 * expected);
    expect(progress[0]).toBe('reading');
    expect(progress).toContain('weights');
    expect(progress[progress.length - 1]).toBe('done');
  });

  it('refuses a model larger than the memory limit with a message, before allocating', async () => {
    const small = await makeStudio({ memoryLimitBytes: 10_000 });
    const before = tf.memory().numTensors;
    const attempt = small.session.loadModel(BUILTIN_TINY);
    await expect(attempt).rejects.toThrow(UserError);
    await expect(small.session.loadModel(BUILTIN_TINY)).rejects.toThrow(
      /needs .* GiB for its float32 weights, more than the .* available/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('says which file is missing when the picked folder has no weights', async () => {
    const files = await checkpointFiles(fixtureConfig(), 3);
    files.delete('model.safetensors');
    await expect(studio.session.loadModel({ kind: 'files', files: asFiles('broken', files) })).rejects.toThrow(
      /no model\.safetensors or model\.safetensors\.index\.json/,
    );
  });
});

describe('built-in lists', () => {
  it('reads /datasets/index.json and /models/index.json, and an absent index is an empty list', async () => {
    expect(await studio.session.listBuiltinModels()).toEqual([]);
    const models = [{ name: 'tiny', url: '/models/tiny/', heldout: 'heldout.txt' }];
    studio.publicFiles.set('/models/index.json', JSON.stringify({ models }));
    studio.publicFiles.set(
      '/datasets/index.json',
      JSON.stringify({ datasets: [{ name: 'train', file: 'train.txt', format: 'txt' }] }),
    );
    expect(await studio.session.listBuiltinModels()).toEqual(models);
    expect((await studio.session.listBuiltinDatasets()).map((d) => d.file)).toEqual(['train.txt']);
    // A built-in model loaded by its URL alone takes its held-out text from the index.
    const summary = await studio.session.loadModel({ kind: 'builtin', url: '/models/tiny' });
    expect(summary.heldout).toBe('heldout.txt');
    studio.publicFiles.delete('/models/index.json');
  });
});

describe('loadData', () => {
  it('previews tokens with the loss targets marked and reports broken lines by number', async () => {
    await studio.session.loadModel(BUILTIN_TINY);
    const summary = await studio.session.loadData(
      { kind: 'builtin', path: 'tasks.jsonl' },
      { validationFraction: 0.25, seed: 0 },
    );
    expect(summary.format).toBe('jsonl');
    expect(summary.counts.examples).toBe(5);
    expect(summary.counts.blankLines).toBe(1);
    expect(summary.counts.brokenLines).toBe(1);
    expect(summary.errors).toHaveLength(1);
    expect(summary.errors[0].line).toBe(4);
    expect(summary.errors[0].message).toMatch(/^line 4: invalid JSON/);
    expect(summary.counts.trainExamples + summary.counts.validationExamples).toBe(5);
    // Row 1: "<s>hello" is the prompt (not counted), " world</s>" the completion (counted).
    const row = summary.preview[0];
    expect(row.line).toBe(1);
    const text = row.tokens.map((t) => t.text).join('');
    expect(text).toBe('<s>hello world</s>');
    const targets = row.tokens
      .filter((t) => t.target)
      .map((t) => t.text)
      .join('');
    expect(targets).toBe(' world</s>');
    // A {"text"} row counts every token.
    expect(summary.preview[4].tokens.every((t) => t.target)).toBe(true);
  });

  it('reads a user .txt file and holds out its end for validation', async () => {
    const summary = await studio.session.loadData(
      { kind: 'file', name: 'mine.txt', text: 'hello world '.repeat(30) },
      { validationFraction: 0.1, seed: 0 },
    );
    expect(summary.format).toBe('txt');
    expect(summary.packed).toBe(true);
    expect(summary.counts.trainExamples).toBe(1);
    expect(summary.counts.validationExamples).toBe(1);
  });

  it('names the file for an unknown format', async () => {
    await expect(
      studio.session.loadData({ kind: 'file', name: 'data.csv', text: 'a,b' }, { validationFraction: 0, seed: 0 }),
    ).rejects.toThrow(/data\.csv: unknown dataset format/);
  });
});

describe('select', () => {
  it('picks the budget per layer and counts parameters against LoRA and full FT', async () => {
    await studio.session.loadModel(BUILTIN_TINY);
    const s = await studio.session.select({
      strategy: 'weight',
      pick: 'large',
      budget: { kind: 'perLayer', heads: 1, channels: 5 },
      modules: { oProj: true, downProj: true, vProj: false, upProj: false },
      seed: 0,
    });
    expect(s.selection.layers).toHaveLength(2);
    for (const layer of s.selection.layers) {
      expect(layer.heads).toHaveLength(1);
      expect(layer.channels).toHaveLength(5);
    }
    // Each head trains hd·D = 8·32 o_proj values, each channel D = 32 down_proj values.
    expect(s.trainableParams.s2ft).toBe(2 * (1 * 8 * 32 + 5 * 32));
    const config = fixtureConfig();
    expect(s.trainableParams.loraRank).toBe(Math.ceil(s.trainableParams.s2ft / loraParams(config, 1)));
    expect(s.trainableParams.lora).toBe(loraParams(config, s.trainableParams.loraRank));
    expect(s.scores?.heads).toHaveLength(2);
    expect(s.scores?.channels[0]).toHaveLength(48);
    // 'weight' takes the largest-norm head of each layer.
    for (let l = 0; l < 2; l++) {
      const best = s.scores!.heads[l].indexOf(Math.max(...s.scores!.heads[l]));
      expect(s.selection.layers[l].heads).toEqual([best]);
    }
    expect(JSON.parse(s.selectionFile)).toEqual(s.selection);
  });

  it('validates a selection file against the model', async () => {
    const ok = await studio.session.useSelectionFile(
      '{"layers":[{"heads":[1],"channels":[2,3]},{"heads":[],"channels":[4]}]}',
      'sel.json',
    );
    expect(ok.trainableParams.s2ft).toBe(8 * 32 + 3 * 32);
    await expect(
      studio.session.useSelectionFile(
        '{"layers":[{"heads":[9],"channels":[]},{"heads":[],"channels":[]}]}',
        'sel.json',
      ),
    ).rejects.toThrow(/sel\.json: layers\[0\]\.heads\[0\] = 9 is out of range \(model has 4 heads\)/);
  });
});

describe('weightView', () => {
  it('shows o_proj with the selected heads first and their block outlined (checked cell by cell)', async () => {
    await studio.session.loadModel(BUILTIN_TINY);
    await studio.session.useSelectionFile(
      '{"layers":[{"heads":[2],"channels":[7,40]},{"heads":[1,3],"channels":[0]}]}',
      'sel.json',
    );
    const layer = 1;
    const view = await studio.session.weightView({ layer, module: 'o_proj', permuted: true, maxCells: 1000 });
    const W = await baseWeight(layer, 'o_proj'); // [32, 32]
    const perm = coPermutation(fixtureConfig(), { heads: [1, 3], channels: [0] });
    expect(view.order).toEqual(perm.headOrder.map(Number));
    expect(view.order.slice(0, 2)).toEqual([1, 3]);
    expect(view.blocks).toEqual([{ start: 0, end: 2 }]);
    expect(view.unitAxis).toBe('columns');
    expect([view.rows, view.cols, view.rowsPerCell, view.colsPerCell]).toEqual([32, 32, 1, 1]);
    let maxDiff = 0;
    for (let r = 0; r < 32; r++) {
      for (let c = 0; c < 32; c++) {
        const original = view.order[Math.floor(c / 8)] * 8 + (c % 8);
        maxDiff = Math.max(maxDiff, Math.abs(view.values[r * 32 + c] - Math.abs(W[r][original])));
      }
    }
    console.log(`weightView o_proj permuted: max |diff| vs direct gather ${maxDiff} (tol 0)`);
    expect(maxDiff).toBe(0);
  });

  it('average-pools down to maxCells and outlines runs of selected channels in original order', async () => {
    const view = await studio.session.weightView({
      layer: 0,
      module: 'gate_proj',
      permuted: false,
      maxCells: 10,
      absolute: false,
    });
    const W = await baseWeight(0, 'gate_proj'); // [48, 32]
    expect([view.rowsPerCell, view.colsPerCell, view.rows, view.cols]).toEqual([5, 4, 10, 8]);
    let maxDiff = 0;
    for (let i = 0; i < view.rows; i++) {
      for (let j = 0; j < view.cols; j++) {
        let sum = 0,
          n = 0;
        for (let r = i * 5; r < Math.min(48, i * 5 + 5); r++)
          for (let c = j * 4; c < j * 4 + 4; c++) {
            sum += W[r][c];
            n++;
          }
        maxDiff = Math.max(maxDiff, Math.abs(view.values[i * view.cols + j] - sum / n));
      }
    }
    console.log(`weightView gate_proj pooled: max |diff| vs float64 mean ${maxDiff.toExponential(2)} (tol 1e-6)`);
    expect(maxDiff).toBeLessThan(1e-6);
    expect(view.blocks).toEqual([
      { start: 7, end: 8 },
      { start: 40, end: 41 },
    ]);
    expect(view.note).toBeNull();
  });

  it('calls the permuted k/v view of a grouped-query model a gathered view', async () => {
    const gqa = await makeStudio({ config: fixtureConfig({ numKvHeads: 2 }) });
    await gqa.session.loadModel(BUILTIN_TINY);
    await gqa.session.useSelectionFile(
      '{"layers":[{"heads":[3],"channels":[]},{"heads":[0],"channels":[]}]}',
      'sel.json',
    );
    const view = await gqa.session.weightView({ layer: 0, module: 'k_proj', permuted: true });
    expect(view.order).toEqual([1, 0]); // head 3 reads kv head 1 (2 query heads per kv head)
    expect(view.blocks).toEqual([{ start: 0, end: 1 }]);
    expect(view.note).toMatch(/gathered view/);
    gqa.session.dispose();
  });
});
