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
import { parseSafetensors } from '../../core/io/safetensors';
import { PEFT_WEIGHTS_FILE } from '../../core/s2ft/peft';
import { Flags, parseArgs } from '../lib/args';
import { run } from './export-recipe';

const exportRecipe = (argv: string[]) =>
  run({ flags: new Flags(parseArgs(argv, new Set()).flags), json: true, log: () => {} });

describe('export-recipe', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it("writes LoRA recipes from the studio's initial adapter (seeded A, zero B) and full recipes with neither", async () => {
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
      const flags = ['--model', path.join(dir, 'model'), '--data', data, '--batch-size', '2', '--seed', '5'];
      const lora = path.join(dir, 'lora');
      await exportRecipe([...flags, '--method', 'lora', '--lora-rank', '2', '--out', lora]);
      const init = parseSafetensors(new Uint8Array(readFileSync(path.join(lora, 'lora_init', PEFT_WEIGHTS_FILE))));
      const names = [...init.tensors.keys()];
      expect(names).toHaveLength(2 * 5 * config.numLayers); // A and B of q, k, v, up, down in every layer
      const A = names.filter((n) => n.includes('lora_A'));
      const B = names.filter((n) => n.includes('lora_B'));
      expect(B.every((n) => init.read(n).every((v) => v === 0))).toBe(true);
      expect(A.every((n) => init.read(n).some((v) => v !== 0))).toBe(true);
      // A is drawn from --seed, as train draws it (recipe/baselines.test.ts trains both): another seed, another A.
      const again = path.join(dir, 'lora-again');
      await exportRecipe([...flags.slice(0, -1), '6', '--method', 'lora', '--lora-rank', '2', '--out', again]);
      const other = parseSafetensors(new Uint8Array(readFileSync(path.join(again, 'lora_init', PEFT_WEIGHTS_FILE))));
      expect(other.read(A[0])).not.toEqual(init.read(A[0]));
      expect(existsSync(path.join(lora, 'selection.json'))).toBe(false);

      const full = path.join(dir, 'full');
      await exportRecipe([...flags, '--method', 'full', '--out', full]);
      expect(existsSync(path.join(full, 'selection.json'))).toBe(false);
      expect(existsSync(path.join(full, 'lora_init'))).toBe(false);
      const run = JSON.parse(readFileSync(path.join(full, 'run.json'), 'utf8')) as { out: string; training: object };
      expect(run).toMatchObject({ out: 'fine-tuned-model', training: { method: 'full' } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
