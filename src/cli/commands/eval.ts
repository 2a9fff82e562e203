/**
 * `eval --model DIR [--adapter FILE]... --data FILE [--seq-len T] [--json]`
 * Mean next-token cross-entropy over every predicted position of the data, and its perplexity.
 * A .jsonl row is one sequence (truncated to T+1 tokens only when --seq-len is given); a .txt file
 * is packed into windows of T = --seq-len (default 256) inputs that overlap by one token, so every
 * token after the first is predicted exactly once. Rows' masks (answer-only targets) are kept.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../core/errors';
import { forward } from '../../core/model/llama';
import { IGNORE_INDEX, type Batch } from '../../core/train/batch';
import { MAX_DATASET_CHARS, parseDataset } from '../../core/train/data';
import { crossEntropy } from '../../core/train/loss';
import type { LlamaModel } from '../../core/model/types';
import { evaluationBatches } from '../lib/evaluationBatches';
import { readUserText } from '../lib/files';
import type { CommandRun } from '../command';
import { loadCliModel, printLoadWarnings } from '../lib/modelArg';

/** Sum of token losses and the number of counted tokens of one batch. */
function batchLoss(model: LlamaModel, batch: Batch): { sum: number; count: number } {
  let count = 0;
  for (const label of batch.labels) if (label !== IGNORE_INDEX) count++;
  if (count === 0) return { sum: 0, count };
  const mean = tf.tidy(() => {
    const ids = tf.tensor2d(batch.inputIds, [batch.batchSize, batch.seqLen], 'int32'); // [B, T]
    const labels = tf.tensor2d(batch.labels, [batch.batchSize, batch.seqLen], 'int32'); // [B, T]
    return crossEntropy(forward(model, ids), labels); // scalar
  });
  const value = mean.dataSync()[0];
  mean.dispose();
  return { sum: value * count, count };
}

export const run: CommandRun = async ({ flags, json, log }) => {
  const dataFile = flags.requireString('data');
  const seqLen = flags.has('seq-len') ? flags.number('seq-len', 0, { min: 1, integer: true }) : undefined;
  const text = await readUserText(dataFile, 'data file', MAX_DATASET_CHARS);
  const loaded = await loadCliModel(flags);
  const { model, tokenizer } = loaded;
  const dataset = parseDataset(text, path.basename(dataFile), { tokenizer, vocabSize: model.config.vocabSize });
  printLoadWarnings(loaded);
  for (const e of dataset.errors) console.error(`warning: ${dataFile}: ${e.message}`);
  const batches = evaluationBatches(dataset, seqLen);
  let sum = 0;
  let tokens = 0;
  for (const batch of batches) {
    const b = batchLoss(model, batch);
    sum += b.sum;
    tokens += b.count;
  }
  if (tokens === 0)
    throw new UserError('bad-file', 'has no token to predict (every example is shorter than two tokens)', dataFile);
  const loss = sum / tokens;
  const result = { loss, perplexity: Math.exp(loss), tokens };
  if (!json) log(`loss ${loss.toFixed(4)}, perplexity ${result.perplexity.toFixed(2)} over ${tokens} predicted tokens`);
  return result;
};
