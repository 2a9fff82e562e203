/** export-recipe's flags and refusals (a recipe run end to end is in recipe/recipe.test.ts). */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeCheckpoint } from '../../core/io/checkpoint';
import { writeFilesToDirectory } from '../../core/io/nodeFiles';
import { disposeWeights, initWeights } from '../../core/model/init';
import { randomIds, tinyConfig } from '../../core/model/testing/tinyModels';
import { Flags, parseArgs } from '../args';
import { run } from './export-recipe';

const exportRecipe = (argv: string[]) =>
  run({ flags: new Flags(parseArgs(argv, new Set()).flags), json: true, log: () => {} });

describe('export-recipe', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('writes S²FT recipes only', async () => {
    await expect(exportRecipe(['--model', 'm', '--data', 'd.jsonl', '--method', 'lora', '--out', 'o'])).rejects.toThrow(
      /S²FT recipes only; --method lora/,
    );
  });

  it('selects units from strategy flags when no selection file is given', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'export-recipe-'));
    try {
      const config = tinyConfig();
      const weights = initWeights(config, 3);
      await writeFilesToDirectory(path.join(dir, 'model'), await writeCheckpoint(config, weights));
      disposeWeights(weights);
      const data = path.join(dir, 'd.jsonl');
      writeFileSync(
        data,
        randomIds(4, 9, config.vocabSize, 1)
          .map((ids) => JSON.stringify({ input_ids: ids }))
          .join('\n'),
      );
      const out = path.join(dir, 'recipe');
      await exportRecipe([
        '--model',
        path.join(dir, 'model'),
        '--data',
        data,
        '--out',
        out,
        '--strategy',
        'activation',
        '--pick',
        'small',
        '--heads-per-layer',
        '1',
        '--channels-per-layer',
        '2',
        '--batch-size',
        '2',
      ]);
      const selection = JSON.parse(readFileSync(path.join(out, 'selection.json'), 'utf8')) as {
        layers: { heads: number[]; channels: number[] }[];
      };
      expect(selection.layers).toHaveLength(config.numLayers);
      for (const layer of selection.layers) {
        expect(layer.heads).toHaveLength(1);
        expect(layer.channels).toHaveLength(2);
      }
      const runJson = JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8')) as { selection: { info: unknown } };
      expect(runJson.selection.info).toEqual({ strategy: 'activation', pick: 'small', seed: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses data whose targets all lie beyond --seq-len, before writing anything', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'export-recipe-'));
    try {
      const config = tinyConfig();
      const weights = initWeights(config, 3);
      await writeFilesToDirectory(path.join(dir, 'model'), await writeCheckpoint(config, weights));
      disposeWeights(weights);
      const data = path.join(dir, 'd.jsonl');
      // Answer-only rows: 8 prompt tokens (label -100), then 2 counted answer tokens.
      writeFileSync(
        data,
        randomIds(4, 10, config.vocabSize, 2)
          .map((ids) => JSON.stringify({ input_ids: ids, labels: ids.map((id, t) => (t < 8 ? -100 : id)) }))
          .join('\n'),
      );
      const out = path.join(dir, 'recipe');
      const flags = ['--model', path.join(dir, 'model'), '--data', data, '--out', out, '--batch-size', '2'];
      await expect(exportRecipe([...flags, '--seq-len', '4'])).rejects.toThrow(
        /no example has a target token within the first 5 tokens/,
      );
      expect(existsSync(out)).toBe(false);
      await exportRecipe([...flags, '--seq-len', '8']); // the first answer token is the 9th: a target
      expect(existsSync(path.join(out, 'run.json'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names a missing model directory', async () => {
    await expect(
      exportRecipe(['--model', '/nonexistent/model', '--data', 'd.jsonl', '--selection', 's.json', '--out', 'o']),
    ).rejects.toThrow(/model directory not found/);
  });
});
