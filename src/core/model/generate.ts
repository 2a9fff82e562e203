/**
 * Autoregressive generation: one prefill pass over the prompt fills the KV cache, then each new
 * token costs one single-position forward pass, so the per-token cost stays flat as the text
 * grows. Every step's tensors are disposed; the cache is disposed at the end.
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors';
import { KVCache } from './kvcache';
import { forward } from './llama';
import { mulberry32 } from '../random';
import { checkSamplingOptions, sampleToken, type SamplingOptions } from './sampling';
import type { LinearFn, LlamaModel } from './types';

export interface GenerateOptions extends Partial<SamplingOptions> {
  maxNewTokens: number;
  /** Seed of the sampling PRNG (ignored when greedy). */
  seed?: number;
  /** Generation stops after emitting one of these (it is included in the output). Default: config eos ids. */
  stopTokenIds?: number[];
  /** Linear override, e.g. an adapter's, applied in every forward pass. */
  linear?: LinearFn;
  /** false recomputes the whole sequence every step (the benchmark's baseline). Default true. */
  useCache?: boolean;
  /** Called with each new token as it is chosen. */
  onToken?: (id: number, step: number) => void;
}

export interface GenerateResult {
  /** The new tokens only (the prompt is not repeated). */
  ids: number[];
  stoppedBy: 'eos' | 'length';
}

export async function generate(
  model: LlamaModel,
  promptIds: number[],
  options: GenerateOptions,
): Promise<GenerateResult> {
  const V = model.config.vocabSize;
  if (promptIds.length === 0) throw new UserError('bad-argument', 'the prompt is empty: give at least one token');
  const bad = promptIds.find((id) => !Number.isInteger(id) || id < 0 || id >= V);
  if (bad !== undefined)
    throw new UserError('bad-argument', `prompt token id ${bad} is outside the vocabulary [0, ${V})`);
  if (!Number.isInteger(options.maxNewTokens) || options.maxNewTokens < 0)
    throw new UserError('bad-argument', `max new tokens must be an integer ≥ 0, got ${options.maxNewTokens}`);
  const sampling: SamplingOptions = { temperature: options.temperature ?? 0, topK: options.topK, topP: options.topP };
  checkSamplingOptions(sampling);
  const random = mulberry32(options.seed ?? 0);
  const stop = new Set(options.stopTokenIds ?? model.config.eosTokenIds);
  const useCache = options.useCache ?? true;
  const cache = useCache ? new KVCache(model.config.numLayers) : null;
  const sequence = [...promptIds];
  const ids: number[] = [];
  try {
    let feed = promptIds; // what the next pass reads
    while (ids.length < options.maxNewTokens) {
      const logits = tf.tidy(() => {
        const input = tf.tensor2d([cache ? feed : sequence], undefined, 'int32'); // [1, T]
        // [1, 1, V]
        return forward(model, input, { linear: options.linear, cache: cache ?? undefined, lastPositionOnly: true });
      });
      const row = (await logits.data()) as Float32Array; // [V]
      logits.dispose();
      const next = sampleToken(row, sampling, random);
      ids.push(next);
      sequence.push(next);
      options.onToken?.(next, ids.length - 1);
      if (stop.has(next)) return { ids, stoppedBy: 'eos' };
      feed = [next];
    }
    return { ids, stoppedBy: 'length' };
  } finally {
    cache?.dispose();
  }
}
