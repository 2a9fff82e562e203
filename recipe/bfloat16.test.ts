/**
 * Issue 18 "Must show" 3: `--dtype bfloat16` (frozen weights and activations in bfloat16, trained deltas
 * float32) trains the run float32 trains, on the CPU, within what bfloat16's precision allows.
 *
 * The tolerance. bfloat16 keeps 8 significant bits, so each rounding is off by at most u = 2^-8 ≈ 3.9e-3
 * relative. Counting model.py's forward, a decoder layer puts a value through at most 24 roundings in
 * series (norm cast and scale, q projection, RoPE's two products and sum, scores, scaling, mask, softmax
 * cast, probs·v, o_proj with its S²FT term and sum, residual; then the same for the MLP: norm, gate, SiLU,
 * product, down_proj with its S²FT term and sum, residual), plus 4 outside the layers (embedding, final
 * norm, LM head): k = 24·L + 4. Independent roundings add up like √k·u, so each update's loss is asserted
 * within √k·u relative of float32's. A delta's gradient goes through the forward and then a backward
 * of about the same depth: the adapters (max |Δ| / max |delta|) within √(2k)·u. A wrong bfloat16 path
 * (a delta not applied, a cast in the wrong place) moves both by orders of magnitude more.
 *
 * It also exercises `--steps` (the run is exported with 5 updates, trained with 3) and checks that the
 * bfloat16 run really ran in bfloat16 (its adapter differs from float32's).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, python, readAdapter, relDiff, ROOT, sh } from './testing/harness';

const MODEL = path.join(ROOT, 'public/models/moby-llama-800k');
const U = 2 ** -8;

describe.skipIf(!python)('the recipe in bfloat16', () => {
  let tmp: string;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    tmp = mkdtempSync(path.join(tmpdir(), 'recipe-bf16-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('--dtype bfloat16 on the CPU gives float32’s losses and adapter within bfloat16’s precision', async () => {
    const data = path.join(tmp, 'train.jsonl');
    const rows = readFileSync(path.join(ROOT, 'public/datasets/toy-tasks/train.jsonl'), 'utf8').split('\n');
    writeFileSync(data, rows.slice(0, 16).join('\n') + '\n');
    const run = path.join(tmp, 'run');
    await cli('export-recipe', [
      '--model',
      MODEL,
      '--data',
      data,
      '--optimizer',
      'sgd',
      '--lr',
      '0.1',
      '--grad-clip',
      '0',
      '--steps',
      '5',
      '--batch-size',
      '4',
      '--out',
      run,
    ]);
    const train = (dtype: string) => {
      const dir = path.join(tmp, dtype);
      cpSync(run, dir, { recursive: true });
      const log = sh(
        python as string,
        ['train.py', '--dtype', dtype, '--steps', '3', '--metrics', 'metrics.json'],
        dir,
      );
      expect(log).toContain(`${dtype}, cpu`);
      const metrics = JSON.parse(readFileSync(path.join(dir, 'metrics.json'), 'utf8')) as { losses: number[] };
      return { losses: metrics.losses, adapter: readAdapter(path.join(dir, 'adapter.safetensors')) };
    };
    const f32 = train('float32');
    const bf16 = train('bfloat16');

    const layers = (JSON.parse(readFileSync(path.join(MODEL, 'config.json'), 'utf8')) as { num_hidden_layers: number })
      .num_hidden_layers;
    const k = 24 * layers + 4;
    const lossTol = Math.sqrt(k) * U;
    const adapterTol = Math.sqrt(2 * k) * U;
    expect(f32.losses).toHaveLength(3);
    expect(bf16.losses).toHaveLength(3);
    expect(bf16.adapter.info.training.steps).toBe(3);
    const lossDiffs = f32.losses.map((l, i) => Math.abs(bf16.losses[i] - l) / l);
    const adapterDiff = relDiff(bf16.adapter, f32.adapter);
    const inU = (x: number) => `${x.toExponential(2)} (${(x / U).toFixed(2)} u)`;
    console.log(
      `bfloat16 vs float32, ${layers} layers, k = ${k} roundings in series, u = 2^-8:\n` +
        `  losses float32 ${f32.losses.map((l) => l.toFixed(4)).join(' ')}, bfloat16 ${bf16.losses.map((l) => l.toFixed(4)).join(' ')}\n` +
        `  loss rel diffs ${lossDiffs.map(inU).join(', ')} (tol √k·u = ${inU(lossTol)})\n` +
        `  adapter max rel diff ${inU(adapterDiff)} (tol √(2k)·u = ${inU(adapterTol)})`,
    );
    for (const d of lossDiffs) expect(d).toBeLessThan(lossTol);
    expect(adapterDiff).toBeLessThan(adapterTol);
    expect(adapterDiff).toBeGreaterThan(0); // bfloat16 did run: its rounding shows
  }, 300_000);
});
