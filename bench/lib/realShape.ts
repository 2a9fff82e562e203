/**
 * One real-shape case of the PyTorch comparison: the same model (initWeights, seed 0), data,
 * method (S²FT's selection, LoRA's initial adapter, or full fine-tuning) and settings trained by
 * this project's Trainer on the Node backend and by the exported recipe in PyTorch, interleaved
 * (PyTorch's updates, then ours, `rounds` times) so that both see the same load on a shared
 * machine. Both run on one thread and are timed on process CPU time; the
 * first update's losses, from identical weights and rows, must agree.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Flags, parseArgs } from '../../src/cli/lib/args';
import { trainConfigFromFlags } from '../../src/cli/lib/trainFlags';
import { disposeWeights, initWeights } from '../../src/core/model/init';
import type { ModelConfig } from '../../src/core/model/types';
import { readSelectionFile } from '../../src/core/s2ft/selectionFile';
import { BatchStream, shouldPack } from '../../src/core/train/batches';
import { parseDataset } from '../../src/core/train/data';
import { loraOptions } from '../../src/core/train/lora';
import type { MethodName } from '../../src/core/train/method';
import { prepareMethod } from '../../src/core/train/methods';
import { Trainer } from '../../src/core/train/trainer';
import { cpuMs, sync } from './compare';
import { exportRecipe, methodFlags, runRecipe, writeCase } from './pytorch';
import { median } from './stats';

export interface PyTorchCase {
  name: string;
  method: MethodName;
  description: string;
  batchSize: number;
  seqLen: number;
  /** Per-update process CPU ms, warm-up updates excluded. */
  oursCpuMs: number[];
  torchCpuMs: number[];
  /** median(ours) / median(PyTorch). */
  ratio: number;
  /** The first update's loss in each engine (same weights, rows and selection). */
  firstLoss: { ours: number; torch: number };
}

export interface CaseOptions {
  name: string;
  method: MethodName;
  description: string;
  config: ModelConfig;
  batchSize: number;
  seqLen: number;
  /** Scratch folder for the checkpoint, data and recipe. */
  dir: string;
  rounds: number;
  /** Our untimed updates before the rounds (the first two pay one-time weight copies). */
  warmup: number;
  log: (line: string) => void;
}

export async function compareWithPyTorch(o: CaseOptions): Promise<PyTorchCase> {
  const torchSteps = 3; // the first of each run is PyTorch's warm-up
  const oursPerRound = 2;
  const steps = o.warmup + o.rounds * oursPerRound;
  const { modelDir, data } = await writeCase(o.dir, o.config, 0, o.batchSize * steps, o.seqLen);
  const recipeDir = path.join(o.dir, 'recipe');
  const run = { method: o.method, batchSize: o.batchSize, seqLen: o.seqLen, steps };
  exportRecipe(modelDir, data, recipeDir, run);

  // Our side, with the settings `train` would use for the same flags, the recipe's selection and rows.
  const argv = ['train', '--data', data, '--out', path.join(o.dir, 'unused'), '--lr', '1e-4', ...methodFlags(o.method)];
  argv.push(
    '--schedule',
    'constant',
    '--seed',
    '0',
    '--batch-size',
    String(o.batchSize),
    '--seq-len',
    String(o.seqLen),
  );
  const trainConfig = trainConfigFromFlags(new Flags(parseArgs([...argv, '--steps', String(steps)], new Set()).flags));
  const dataset = parseDataset(readFileSync(data, 'utf8'), data, { tokenizer: null, vocabSize: o.config.vocabSize });
  const stream = new BatchStream(
    { examples: dataset.examples, eosTokenId: dataset.eosTokenId },
    { batchSize: o.batchSize, seqLen: o.seqLen, seed: 0, pack: shouldPack(dataset), shuffle: true },
  );
  const model = { config: o.config, weights: initWeights(o.config, 0) };
  const prepared = prepareMethod(o.method, model, {
    selection:
      o.method === 's2ft'
        ? readSelectionFile(readFileSync(path.join(recipeDir, 'selection.json'), 'utf8'), o.config)
        : undefined,
    lora: loraOptions(trainConfig),
  });
  // As `train` does for full FT: its variables hold the weights, the base buffers go at their first update.
  if (o.method === 'full') disposeWeights(model.weights);
  const trainer = new Trainer(prepared, o.config, stream, trainConfig);
  const losses: number[] = [];
  const step = async (): Promise<number> => {
    const start = cpuMs();
    const m = await trainer.step();
    await sync(prepared.trainable[0]);
    losses.push(m.loss);
    return cpuMs() - start;
  };
  for (let i = 0; i < o.warmup; i++) o.log(`  ${o.name}: our warm-up update ${(await step()).toFixed(0)} ms CPU`);
  const oursCpuMs: number[] = [];
  const torchCpuMs: number[] = [];
  let torchFirstLoss = NaN;
  for (let r = 0; r < o.rounds; r++) {
    const torch = runRecipe(recipeDir, torchSteps);
    torchFirstLoss = torch.losses[0];
    torchCpuMs.push(...torch.stepCpuMs.slice(1));
    for (let i = 0; i < oursPerRound; i++) oursCpuMs.push(await step());
    o.log(
      `  ${o.name} round ${r + 1}: PyTorch ${torch.stepCpuMs
        .slice(1)
        .map((t) => t.toFixed(0))
        .join(', ')} ms, ours ${oursCpuMs
        .slice(-oursPerRound)
        .map((t) => t.toFixed(0))
        .join(', ')} ms CPU`,
    );
  }
  trainer.dispose();
  prepared.dispose();
  if (o.method !== 'full') disposeWeights(model.weights);
  const ratio = median(oursCpuMs) / median(torchCpuMs);
  o.log(
    `  ${o.name}: ours ${median(oursCpuMs).toFixed(0)} ms / PyTorch ${median(torchCpuMs).toFixed(0)} ms = ${ratio.toFixed(2)}×; ` +
      `first loss ${losses[0].toFixed(4)} vs ${torchFirstLoss.toFixed(4)}`,
  );
  return {
    name: o.name,
    method: o.method,
    description: o.description,
    batchSize: o.batchSize,
    seqLen: o.seqLen,
    oursCpuMs,
    torchCpuMs,
    ratio,
    firstLoss: { ours: losses[0], torch: torchFirstLoss },
  };
}
