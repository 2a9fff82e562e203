/**
 * Exact match of greedy answers, the first-run demo's metric: the share of rows whose answer
 * (the tokens that count in the loss, here the completion and its end-of-sequence token) is
 * exactly what greedy decoding from the prompt produces.
 *
 * Teacher forcing gives the same verdict in one batched forward pass instead of one pass per
 * new token: greedy decoding emits answer token k exactly when, with the prompt and answer
 * tokens 1..k-1 as context, token k has the largest logit; so every answer position's argmax
 * equals its target if and only if greedy decoding writes the whole answer and then stops at
 * its end-of-sequence token. (For a row whose targets are not one tail, e.g. several chat turns,
 * it scores "every target is the greedy choice given the true text before it".) Ties go to the
 * lowest token id, as in sampling.ts `argmax`. The logits stay in the lm_head's row shards, as the
 * training loss reads them (no [B·T, V] tensor beyond one GPU buffer at a 262k vocabulary); the
 * argmax is taken per shard and the shards' winners compared. exactMatch.test.ts checks the
 * verdicts against `generate`, sharded and not, ties across shards included.
 */
import * as tf from '@tensorflow/tfjs';
import { reshape } from '../model/fusedOps';
import { defaultLinear, forwardHidden, logitShards } from '../model/llama';
import type { LinearFn, LlamaModel } from '../model/types';
import { IGNORE_INDEX } from './batch';
import { makeBatches } from './batches';
import type { TokenizedExample } from './data';

export interface ExactMatch {
  correct: number;
  /** Rows scored: those with at least one target token after the first token. */
  total: number;
}

export interface ExactMatchOptions {
  linear?: LinearFn;
  eosTokenId: number | null;
  /** Rows per forward pass (default 64). */
  batchSize?: number;
  /**
   * Pad rows to at least this many positions (default: the longest row's). A caller that already
   * ran passes of this shape reuses their compiled GPU kernels; a longer row still counts whole.
   */
  seqLen?: number;
}

export async function exactMatch(
  model: LlamaModel,
  examples: readonly TokenizedExample[],
  options: ExactMatchOptions,
): Promise<ExactMatch> {
  const scored = examples.filter((e) => e.lossMask.some((m, t) => m && t > 0));
  if (scored.length === 0) return { correct: 0, total: 0 };
  const longest = Math.max(...scored.map((e) => e.inputIds.length)) - 1;
  const T = Math.max(longest, options.seqLen ?? 0); // every row whole, no truncation
  const batches = makeBatches(
    { examples: scored, eosTokenId: options.eosTokenId },
    { batchSize: options.batchSize ?? 64, seqLen: T, seed: 0, pack: false, shuffle: false },
  );
  let correct = 0;
  for (const batch of batches) {
    const { batchSize: B, seqLen } = batch;
    const predicted = tf.tidy(() => {
      const ids = tf.tensor2d(batch.inputIds, [B, seqLen], 'int32'); // [B, T]
      const h = forwardHidden(model, ids, { linear: options.linear }); // [B, T, D]
      const flat = reshape<tf.Rank.R2>(h, [B * seqLen, h.shape[2]]); // [N, D]
      return argMaxShards(logitShards(model, flat, options.linear ?? defaultLinear)); // [N] int32
    });
    const best = (await predicted.data()) as Int32Array;
    predicted.dispose();
    for (let b = 0; b < B; b++) {
      let right = true;
      for (let t = 0; t < seqLen && right; t++) {
        const target = batch.labels[b * seqLen + t];
        if (target !== IGNORE_INDEX && best[b * seqLen + t] !== target) right = false;
      }
      if (right) correct++;
    }
  }
  return { correct, total: scored.length };
}

/**
 * The argmax over the vocabulary of logits held in row shards (part s: token ids [o_s, o_s + V_s)):
 * each shard's best, then the first shard with the largest value, so ties go to the lowest id.
 * [N, V_s] each → [N] int32
 */
function argMaxShards(parts: tf.Tensor2D[]): tf.Tensor1D {
  let best = tf.max(parts[0], 1); // [N]
  let index = tf.argMax(parts[0], 1); // [N] int32
  let offset = parts[0].shape[1];
  for (const part of parts.slice(1)) {
    const value = tf.max(part, 1); // [N]
    const better = tf.greater(value, best); // strictly: an equal value keeps the lower id
    index = tf.where(better, tf.add(tf.argMax(part, 1), tf.scalar(offset, 'int32')), index);
    best = tf.where(better, value, best);
    offset += part.shape[1];
  }
  return index as tf.Tensor1D;
}
