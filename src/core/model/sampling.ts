/**
 * Choosing the next token from one row of logits, in the order HF's logits warpers apply:
 * temperature → top-k → top-p, then a draw from the remaining distribution. Temperature 0 is
 * greedy (argmax). Randomness comes from a seeded PRNG so a run is reproducible.
 */
import { UserError } from '../errors';

export interface SamplingOptions {
  /** 0 = greedy. */
  temperature: number;
  /** Keep the k most likely tokens; 0 = off. */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p; 1 = off. */
  topP?: number;
}

export function checkSamplingOptions(o: SamplingOptions): void {
  if (!(o.temperature >= 0) || !Number.isFinite(o.temperature))
    throw new UserError('bad-argument', `temperature must be a finite number ≥ 0, got ${o.temperature}`);
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 0))
    throw new UserError('bad-argument', `top-k must be an integer ≥ 0, got ${o.topK}`);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1))
    throw new UserError('bad-argument', `top-p must be in (0, 1], got ${o.topP}`);
}

/** Index of the largest logit (the first one on ties, like torch.argmax). */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/**
 * The distribution sampling draws from after temperature, top-k and top-p, as (token, prob)
 * pairs in decreasing probability, probabilities renormalised to sum to 1.
 */
export function filteredDistribution(
  logits: ArrayLike<number>,
  o: SamplingOptions,
): { ids: number[]; probs: number[] } {
  const order = Array.from({ length: logits.length }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  const k = o.topK && o.topK > 0 ? Math.min(o.topK, order.length) : order.length;
  const kept = order.slice(0, k);
  const max = logits[kept[0]];
  let weights = kept.map((i) => Math.exp((logits[i] - max) / o.temperature));
  let z = weights.reduce((s, w) => s + w, 0);
  let probs = weights.map((w) => w / z);
  const p = o.topP ?? 1;
  if (p < 1) {
    // Keep a token while the probability mass before it is below p (at least one token).
    let cum = 0;
    let n = 0;
    while (n < probs.length && (n === 0 || cum < p)) cum += probs[n++];
    weights = weights.slice(0, n);
    z = weights.reduce((s, w) => s + w, 0);
    probs = weights.map((w) => w / z);
    return { ids: kept.slice(0, n), probs };
  }
  return { ids: kept, probs };
}

/** Next token: argmax when temperature is 0, else a seeded draw from the filtered distribution. */
export function sampleToken(logits: ArrayLike<number>, o: SamplingOptions, random: () => number): number {
  if (o.temperature === 0) return argmax(logits);
  const { ids, probs } = filteredDistribution(logits, o);
  let u = random();
  for (let i = 0; i < ids.length; i++) {
    u -= probs[i];
    if (u < 0) return ids[i];
  }
  return ids[ids.length - 1];
}
