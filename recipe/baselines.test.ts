/**
 * The recipe trains S²FT's baselines too (issue 15 times them against the studio's): LoRA from the
 * studio's own initial adapter (lora_init/), and full fine-tuning of every weight. Two SGD updates
 * with gradient clipping, on the same model and rows, give the studio's LoRA adapter and the
 * studio's fine-tuned checkpoint within 1e-5 (relative to the largest trained value or update).
 *
 * Needs python3 with torch (Debian: apt-get install python3-torch); without it the suite is skipped.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSafetensors } from '../src/core/io/safetensors';
import { randomIds, tinyConfig } from '../src/core/model/testing/tinyModels';
import { PEFT_WEIGHTS_FILE } from '../src/core/s2ft/peft';
import { cli, python, sh, studioCheckpoint, writeRows } from './testing/harness';

const readTensors = (file: string) => {
  const parsed = parseSafetensors(new Uint8Array(readFileSync(file)), file);
  return new Map([...parsed.tensors.keys()].map((name) => [name, parsed.read(name)]));
};

/** max |a − b| / max |b| over every tensor of two files with the same names; `base` is subtracted first. */
function maxRelDiff(
  a: Map<string, Float32Array | Int32Array>,
  b: Map<string, Float32Array | Int32Array>,
  base?: Map<string, Float32Array | Int32Array>,
): number {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  let diff = 0;
  let scale = 0;
  for (const [name, x] of a) {
    const y = b.get(name)!;
    const z = base?.get(name);
    expect(x.length, name).toBe(y.length);
    x.forEach((v, i) => {
      const ref = y[i] - (z ? z[i] : 0);
      diff = Math.max(diff, Math.abs(v - (z ? z[i] : 0) - ref));
      scale = Math.max(scale, Math.abs(ref));
    });
  }
  expect(scale).toBeGreaterThan(0);
  return diff / scale;
}

describe.skipIf(!python)('PyTorch recipe: the LoRA and full fine-tuning baselines', () => {
  const py = python as string;
  const config = tinyConfig({ modelType: 'qwen2', attentionBias: true }); // GQA, q/k/v biases
  let tmp: string;
  let modelDir: string;
  let data: string;
  const sgd = ['--optimizer', 'sgd', '--lr', '0.5', '--steps', '2', '--grad-clip', '0.3', '--batch-size', '4'];

  beforeAll(async () => {
    await tf.setBackend('cpu');
    tmp = mkdtempSync(path.join(tmpdir(), 'recipe-baselines-'));
    modelDir = await studioCheckpoint(path.join(tmp, 'tiny-qwen2'), config, 5);
    data = path.join(tmp, 'rows.jsonl');
    writeRows(data, randomIds(8, 9, config.vocabSize, 71));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const trainBoth = async (method: string[], studioOut: string, recipeOut: string) => {
    const flags = ['--model', modelDir, '--data', data, ...method, ...sgd];
    await cli('train', [...flags, '--out', studioOut]);
    const recipe = path.join(tmp, `${path.basename(studioOut)}-recipe`);
    await cli('export-recipe', [...flags, '--out', recipe]);
    sh(py, ['train.py', '--out', recipeOut], recipe);
    return recipe;
  };

  it('LoRA: two SGD updates from the studio initial adapter give the studio adapter', async () => {
    const studio = path.join(tmp, 'studio-lora');
    const recipe = await trainBoth(['--method', 'lora', '--lora-rank', '4'], studio, 'trained-lora');
    const init = readTensors(path.join(recipe, 'lora_init', PEFT_WEIGHTS_FILE));
    const ours = readTensors(path.join(recipe, 'trained-lora', PEFT_WEIGHTS_FILE));
    const theirs = readTensors(path.join(studio, PEFT_WEIGHTS_FILE));
    // Both A and B moved: B from zero on the first update, A once B is not zero.
    const moved = (prefix: string) =>
      [...ours].some(([n, v]) => n.includes(prefix) && v.some((x, i) => x !== init.get(n)![i]));
    expect(moved('lora_A')).toBe(true);
    expect(moved('lora_B')).toBe(true);
    const rel = maxRelDiff(ours, theirs);
    const config = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'adapter_config.json'), 'utf8')) as object;
    expect(config(path.join(recipe, 'trained-lora'))).toEqual(config(studio));
    console.log(`LoRA, 2 SGD updates: recipe vs studio max rel diff ${rel.toExponential(2)} (tol 1e-5)`);
    expect(rel).toBeLessThan(1e-5);
  });

  it('full fine-tuning: two SGD updates of every weight give the studio checkpoint', async () => {
    const studio = path.join(tmp, 'studio-full');
    const recipe = await trainBoth(['--method', 'full'], studio, 'trained-full');
    const base = readTensors(path.join(modelDir, 'model.safetensors'));
    const ours = readTensors(path.join(recipe, 'trained-full', 'model.safetensors'));
    const theirs = readTensors(path.join(studio, 'model.safetensors'));
    const rel = maxRelDiff(ours, theirs, base);
    console.log(
      `full FT, 2 SGD updates: recipe vs studio max rel diff of the updates ${rel.toExponential(2)} (tol 1e-5)`,
    );
    expect(rel).toBeLessThan(1e-5);
    expect(readFileSync(path.join(recipe, 'trained-full', 'config.json'), 'utf8')).toBe(
      readFileSync(path.join(modelDir, 'config.json'), 'utf8'),
    );
  });

  it('refuses what it cannot do, by name', async () => {
    const recipe = path.join(tmp, 'refusals-recipe');
    await cli('export-recipe', ['--model', modelDir, '--data', data, '--method', 'full', ...sgd, '--out', recipe]);
    expect(() => sh(py, ['train.py', '--dtype', 'bfloat16'], recipe)).toThrow(
      /full fine-tuning trains float32 weights/,
    );
    expect(() => sh(py, ['train.py', '--peft-out', 'p'], recipe)).toThrow(/--peft-out is for S2FT runs/);
    expect(() => sh(py, ['train.py', '--out', modelDir], recipe)).toThrow(/base model's directory/);
  });
});
