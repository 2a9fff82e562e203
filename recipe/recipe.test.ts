/**
 * Issue 9 "Must show": the PyTorch scale-out recipe runs the studio's S²FT run and its adapter
 * imports back into the studio.
 *
 *  1. python unit tests (recipe/tests): the partial-backprop Functions against autograd, and the
 *     recipe's LLaMA forward against the studio's logits on checkpoints the studio wrote
 *     (GQA + q/k/v biases + tied embeddings; llama3 RoPE scaling), and its learning-rate schedules
 *     (linear, cosine, constant, with and without warm-up) against the studio's;
 *  2. export-recipe → `torchrun --nproc_per_node 2` on CPU (gloo) for a few AdamW steps → the
 *     adapter decodes in the studio and fits the base model's fingerprint; its PEFT form equals
 *     the studio's PEFT export of the same adapter;
 *  3. one plain-SGD step of the recipe and of the studio's `train` command on the same model,
 *     selection and batch give the same deltas within 1e-5 relative, and 2 processes give 1's.
 *
 * Needs python3 with torch (Debian: apt-get install python3-torch). Without it the suite is
 * skipped and says why. The embedded default model (public/models/<name>/) is used for (2) when
 * it exists; otherwise a tiny checkpoint written by the studio.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_MODELS_DIR, resolveModelDir } from '../src/cli/lib/modelArg';
import { loadCheckpoint } from '../src/core/io/checkpoint';
import { nodeDirectorySource } from '../src/core/io/nodeFiles';
import { parseSafetensors } from '../src/core/io/safetensors';
import { disposeWeights } from '../src/core/model/init';
import { forward } from '../src/core/model/llama';
import { randomIds, tinyConfig } from '../src/core/model/testing/tinyModels';
import { BatchStream } from '../src/core/train/batches';
import { learningRate, type ScheduleKind } from '../src/core/train/schedule';
import { checkAdapterFitsModel } from '../src/core/s2ft/adapter';
import { exportPeftLora, PEFT_WEIGHTS_FILE } from '../src/core/s2ft/peft';
import { writeSelectionFile } from '../src/core/s2ft/selectionFile';
import type { Selection } from '../src/core/s2ft/types';
import { cli, python, readAdapter, relDiff, ROOT, sh, studioCheckpoint, torchrun2, writeRows } from './testing/harness';

/** The studio's batches (packed and not, shuffled across epochs) for data.py to reproduce. */
function batchCases(): unknown[] {
  const lengths = [7, 3, 12, 5, 9];
  const examples = lengths.map((n, i) => {
    const inputIds = randomIds(1, n, 50, 40 + i)[0];
    const lossMask = inputIds.map((_, t) => i % 2 === 0 || t >= n / 2); // prompt-style rows count only their tail
    return { inputIds, lossMask, source: i + 1 };
  });
  return [true, false].map((pack) => {
    const options = { batchSize: 3, seqLen: 4, seed: 9, pack, shuffle: true };
    const stream = new BatchStream({ examples, eosTokenId: 2 }, options);
    const batches = Array.from({ length: 5 }, () => stream.next()).map((b) => ({
      input_ids: Array.from(b.inputIds),
      labels: Array.from(b.labels),
    }));
    return { ...options, eos_token_id: 2, examples: examples.map((e) => [e.inputIds, e.lossMask]), batches };
  });
}

/** The studio's learning rate of every update of a few runs, for train.py's learning_rate to reproduce. */
function scheduleCases(): unknown[] {
  const kinds: ScheduleKind[] = ['linear', 'cosine', 'constant'];
  return kinds.flatMap((kind) =>
    [
      { peak: 3e-3, warmup: 0, total: 5 },
      { peak: 0.5, warmup: 3, total: 10 },
      { peak: 1e-4, warmup: 2, total: 2 },
    ].map((s) => ({
      ...s,
      kind,
      rates: Array.from({ length: s.total }, (_, step) => learningRate(step, { ...s, kind })),
    })),
  );
}

describe.skipIf(!python)('PyTorch scale-out recipe', () => {
  const py = python as string;
  let tmp: string;
  const trainConfig = tinyConfig({ modelType: 'qwen2', attentionBias: true }); // GQA 4 heads / 2 kv, q/k/v biases
  const selection: Selection = {
    layers: [
      { heads: [0, 3], channels: [1, 20, 33], vHeads: [1], upChannels: [5] },
      { heads: [2], channels: [47] },
    ],
  };
  let modelDir: string;
  let selectionFile: string;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    tmp = mkdtempSync(path.join(tmpdir(), 'recipe-test-'));
    modelDir = await studioCheckpoint(path.join(tmp, 'tiny-qwen2'), trainConfig, 3);
    selectionFile = path.join(tmp, 'selection.json');
    writeFileSync(selectionFile, writeSelectionFile(selection));
  });
  // RECIPE_KEEP=1 keeps the exported folders for inspection.
  afterAll(() => {
    if (!process.env.RECIPE_KEEP) rmSync(tmp, { recursive: true, force: true });
    else console.log(`kept ${tmp}`);
  });

  it('python unit tests: partial-backprop gradients and the forward against the studio', async () => {
    const fixture = path.join(tmp, 'fixture');
    const cases = [
      {
        name: 'qwen2-gqa-bias-tied',
        config: tinyConfig({ modelType: 'qwen2', attentionBias: true, tieWordEmbeddings: true }),
      },
      {
        name: 'llama3-rope-scaling',
        config: tinyConfig({
          numKvHeads: 1,
          ropeTheta: 500000,
          ropeScaling: {
            type: 'llama3',
            factor: 8,
            lowFreqFactor: 1,
            highFreqFactor: 4,
            originalMaxPositionEmbeddings: 16,
          },
        }),
      },
    ];
    const forwardCases = [];
    for (const [i, c] of cases.entries()) {
      await studioCheckpoint(path.join(fixture, c.name), c.config, 10 + i);
      const loaded = await loadCheckpoint(await nodeDirectorySource(path.join(fixture, c.name)));
      const ids = randomIds(2, 40, c.config.vocabSize, 7 + i);
      const logits = tf.tidy(() =>
        forward({ config: loaded.config, weights: loaded.weights }, tf.tensor2d(ids, [2, 40], 'int32')),
      );
      forwardCases.push({ model: c.name, input_ids: ids, logits: Array.from(await logits.data()) });
      logits.dispose();
      disposeWeights(loaded.weights);
    }
    writeFileSync(path.join(fixture, 'forward.json'), JSON.stringify(forwardCases));
    writeFileSync(path.join(fixture, 'batches.json'), JSON.stringify(batchCases()));
    writeFileSync(path.join(fixture, 'schedules.json'), JSON.stringify(scheduleCases()));
    const out = sh(py, ['-m', 'unittest', 'discover', '-v', '-s', 'recipe/tests'], ROOT, { RECIPE_FIXTURE: fixture });
    console.log(out);
    expect(out).toMatch(/OK/);
    expect(out).not.toMatch(/skipped/);
  });

  it('exported recipe trains with torchrun --nproc_per_node 2 (gloo) and its adapter imports back', async () => {
    const defaultDir = existsSync(EMBEDDED_MODELS_DIR)
      ? (() => {
          try {
            return resolveModelDir('default');
          } catch {
            return null;
          }
        })()
      : null;
    const base = defaultDir ?? modelDir;
    const loaded = await loadCheckpoint(await nodeDirectorySource(base));
    const { config } = loaded;
    disposeWeights(loaded.weights);
    const sel: Selection = defaultDir
      ? {
          layers: Array.from({ length: config.numLayers }, (_, l) => ({
            heads: [l % config.numHeads],
            channels: [0, 7, 8 + 3 * l],
          })),
        }
      : selection;
    const selFile = path.join(tmp, 'must-show-selection.json');
    writeFileSync(selFile, writeSelectionFile(sel));
    const data = path.join(tmp, 'must-show.jsonl');
    writeRows(data, randomIds(8, 17, config.vocabSize, 21));
    const out = path.join(tmp, 'must-show-recipe');
    await cli('export-recipe', [
      '--model',
      base,
      '--data',
      data,
      '--selection',
      selFile,
      '--steps',
      '3',
      '--batch-size',
      '4',
      '--lr',
      '1e-2',
      '--seed',
      '5',
      '--out',
      out,
    ]);
    for (const f of [
      'train.py',
      's2ft.py',
      'model.py',
      'data.py',
      'adapter.py',
      'requirements.txt',
      'README.md',
      'run.json',
      'selection.json',
      'train.tokens.jsonl',
    ])
      expect(existsSync(path.join(out, f)), f).toBe(true);

    const log = sh(py, [...torchrun2(), 'train.py', '--peft-out', 'peft', '--metrics', 'metrics.json'], out, {
      OMP_NUM_THREADS: '1',
    });
    console.log(
      `${defaultDir ? `embedded default ${defaultDir}` : 'tiny studio checkpoint (no embedded default yet)'}:\n${log}`,
    );
    const metrics = JSON.parse(readFileSync(path.join(out, 'metrics.json'), 'utf8')) as {
      losses: number[];
      processes: number;
    };
    expect(metrics.processes).toBe(2);
    expect(metrics.losses).toHaveLength(3);
    expect(metrics.losses.every(Number.isFinite)).toBe(true);

    const adapter = readAdapter(path.join(out, 'adapter.safetensors'));
    checkAdapterFitsModel(adapter, config, { name: loaded.name, fingerprint: loaded.fingerprint }, 'recipe adapter');
    expect(adapter.info.training.processes).toBe(2);
    expect(adapter.blocks.some((b) => b.delta.some((v) => v !== 0))).toBe(true);
    expect(() =>
      checkAdapterFitsModel(adapter, config, { name: loaded.name, fingerprint: 'another' }, 'recipe adapter'),
    ).toThrow(/another base model/);

    // The recipe's PEFT form equals the studio's PEFT export of the same adapter, tensor for tensor.
    const ours = parseSafetensors(new Uint8Array(readFileSync(path.join(out, 'peft', PEFT_WEIGHTS_FILE))));
    const studio = parseSafetensors(exportPeftLora(adapter)[PEFT_WEIGHTS_FILE]);
    expect([...ours.tensors.keys()].sort()).toEqual([...studio.tensors.keys()].sort());
    for (const name of studio.tensors.keys()) expect(ours.read(name), name).toEqual(studio.read(name));
  });

  it('one SGD step: recipe (1 and 2 processes) and the studio give the same deltas', async () => {
    const data = path.join(tmp, 'sgd.jsonl');
    writeRows(data, randomIds(4, 9, trainConfig.vocabSize, 33)); // B = 4 equal-length rows
    const flags = [
      '--model',
      modelDir,
      '--data',
      data,
      '--method',
      's2ft',
      '--selection',
      selectionFile,
      '--optimizer',
      'sgd',
      '--lr',
      '0.5',
      '--steps',
      '1',
      '--grad-clip',
      '0',
      '--batch-size',
      '4',
    ];
    const studioOut = path.join(tmp, 'studio-sgd.safetensors');
    await cli('train', [...flags, '--out', studioOut]);
    const recipe = path.join(tmp, 'sgd-recipe');
    await cli('export-recipe', [...flags, '--out', recipe]);
    sh(py, ['train.py', '--out', 'one.safetensors'], recipe);
    sh(py, [...torchrun2(), 'train.py', '--out', 'two.safetensors'], recipe, {
      OMP_NUM_THREADS: '1',
    });

    const studio = readAdapter(studioOut);
    const one = readAdapter(path.join(recipe, 'one.safetensors'));
    const two = readAdapter(path.join(recipe, 'two.safetensors'));
    expect(one.info.baseModel).toEqual(studio.info.baseModel);
    const vsStudio = relDiff(one, studio);
    const twoVsOne = relDiff(two, one);
    console.log(
      `SGD step deltas: recipe vs studio max rel diff ${vsStudio.toExponential(2)}, ` +
        `2 processes vs 1 ${twoVsOne.toExponential(2)} (tol 1e-5)`,
    );
    expect(vsStudio).toBeLessThan(1e-5);
    expect(twoVsOne).toBeLessThan(1e-5);
  });

  it('three SGD updates with shuffling across epochs, padding, accumulation, warm-up and clipping agree too', async () => {
    const data = path.join(tmp, 'sgd-multi.jsonl');
    writeRows(
      data,
      [6, 9, 4, 8, 5, 7, 9].map((n, i) => randomIds(1, n, trainConfig.vocabSize, 50 + i)[0]),
    );
    const flags = [
      '--model',
      modelDir,
      '--data',
      data,
      '--method',
      's2ft',
      '--selection',
      selectionFile,
      '--optimizer',
      'sgd',
      '--lr',
      '0.5',
      '--steps',
      '3',
      '--batch-size',
      '4',
      '--grad-accum',
      '2',
      '--warmup',
      '1',
      '--schedule',
      'cosine',
      '--grad-clip',
      '0.3',
      '--seed',
      '4',
    ];
    const studioOut = path.join(tmp, 'studio-multi.safetensors');
    await cli('train', [...flags, '--out', studioOut]);
    const recipe = path.join(tmp, 'multi-recipe');
    await cli('export-recipe', [...flags, '--out', recipe]);
    sh(py, ['train.py', '--out', 'one.safetensors'], recipe);
    sh(py, [...torchrun2(), 'train.py', '--out', 'two.safetensors'], recipe, {
      OMP_NUM_THREADS: '1',
    });
    const studio = readAdapter(studioOut);
    const vsStudio = relDiff(readAdapter(path.join(recipe, 'one.safetensors')), studio);
    const twoVsStudio = relDiff(readAdapter(path.join(recipe, 'two.safetensors')), studio);
    console.log(
      `3 SGD updates: recipe vs studio max rel diff ${vsStudio.toExponential(2)}, ` +
        `2 processes vs studio ${twoVsStudio.toExponential(2)} (tol 1e-5)`,
    );
    expect(vsStudio).toBeLessThan(1e-5);
    expect(twoVsStudio).toBeLessThan(1e-5);
  });
});
