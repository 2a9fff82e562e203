/**
 * Held-out loss exactly as `cli eval --data FILE.txt --seq-len T` computes it: the whole file is
 * one document (parseDataset), packed into windows of T inputs that overlap by one token
 * (makeBatches, batch 1, no shuffle), each window's mean cross-entropy weighted by its number of
 * predicted tokens. So every token after the first is predicted exactly once, and the card's
 * number is the one a user reproduces with the eval command.
 */
import * as tf from '@tensorflow/tfjs';
import { forward } from '../../src/core/model/llama';
import type { TextTokenizer } from '../../src/core/model/tokenizer';
import type { LlamaModel } from '../../src/core/model/types';
import { makeBatches } from '../../src/core/train/batches';
import { parseDataset } from '../../src/core/train/data';
import { crossEntropy } from '../../src/core/train/loss';
import { countTargets } from '../../src/core/train/metrics';

export interface HeldOutResult {
  loss: number;
  perplexity: number;
  /** Predicted tokens (the file's tokens minus one). */
  tokens: number;
  /** All token ids of the file, for the bigram baseline on the same tokens. */
  ids: number[];
}

export function heldOutLoss(
  model: LlamaModel,
  tokenizer: TextTokenizer,
  text: string,
  fileName: string,
  seqLen: number,
): HeldOutResult {
  const dataset = parseDataset(text, fileName, { tokenizer, vocabSize: model.config.vocabSize });
  const batches = makeBatches(dataset, { batchSize: 1, seqLen, seed: 0, pack: true, shuffle: false });
  let sum = 0;
  let tokens = 0;
  for (const batch of batches) {
    const count = countTargets(batch);
    if (count === 0) continue;
    const mean = tf.tidy(() => {
      const ids = tf.tensor2d(batch.inputIds, [batch.batchSize, batch.seqLen], 'int32'); // [1, T]
      const labels = tf.tensor2d(batch.labels, [batch.batchSize, batch.seqLen], 'int32'); // [1, T]
      return crossEntropy(forward(model, ids), labels); // scalar
    });
    sum += mean.dataSync()[0] * count;
    mean.dispose();
    tokens += count;
  }
  const loss = sum / tokens;
  return { loss, perplexity: Math.exp(loss), tokens, ids: dataset.examples[0].inputIds };
}
