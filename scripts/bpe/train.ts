/**
 * Byte-level BPE training (Sennrich et al. 2016, GPT-2's byte-level variant): start from the 256
 * byte symbols and repeatedly merge the most frequent adjacent pair within words until the
 * vocabulary is full.
 *
 * Speed: the corpus is reduced to unique words with counts, and pair counts are updated
 * incrementally: a merge only revisits the words that contain the merged pair (found through a
 * pair → words index), and the best pair comes from a lazy max-heap. Ties go to the pair whose
 * left, then right, symbol id is smaller, so training is deterministic.
 */
import { BYTE_TO_CHAR, preTokenize } from './byteLevel';

export interface BpeModel {
  /** Token strings by id: special tokens, then the 256 bytes in byte order, then one per merge. */
  tokens: string[];
  /** Merges in rank order, as pairs of token strings. */
  merges: [string, string][];
  specialTokens: string[];
}

export interface BpeTrainOptions {
  vocabSize: number;
  specialTokens: string[];
  /** Pairs seen fewer times than this are never merged (default 2). */
  minFrequency?: number;
}

export function trainBpe(texts: string[], options: BpeTrainOptions): BpeModel {
  const { vocabSize, specialTokens } = options;
  const minFrequency = options.minFrequency ?? 2;
  const base = specialTokens.length + 256;
  if (!Number.isInteger(vocabSize) || vocabSize < base || vocabSize > 65536) {
    throw new Error(`vocabSize must be an integer in [${base}, 65536], got ${vocabSize}`);
  }
  const tokens = [...specialTokens, ...BYTE_TO_CHAR];
  const merges: [string, string][] = [];
  const idOf = new Map(tokens.map((t, i) => [t, i]));

  const { words, counts } = countWords(texts, specialTokens.length);
  const pairs = new PairCounts();
  words.forEach((w, i) => pairs.addWord(w, counts[i], i));

  while (tokens.length < vocabSize) {
    const best = pairs.popBest(minFrequency);
    if (best === null) break;
    const [a, b] = splitKey(best);
    // Different merge paths can spell the same string ("a"+"bc", "ab"+"c"): it stays one token.
    const spelled = tokens[a] + tokens[b];
    let merged = idOf.get(spelled);
    if (merged === undefined) {
      merged = tokens.length;
      tokens.push(spelled);
      idOf.set(spelled, merged);
    }
    merges.push([tokens[a], tokens[b]]);
    for (const i of pairs.wordsWith(best)) {
      const word = words[i];
      const next = mergeWord(word, a, b, merged);
      if (next === word) continue; // stale index entry: the pair is no longer in this word
      pairs.removeWord(word, counts[i]);
      pairs.addWord(next, counts[i], i);
      words[i] = next;
    }
  }
  return { tokens, merges, specialTokens: [...specialTokens] };
}

/** Replaces each leftmost non-overlapping (a, b) by `merged`; returns the same array if none. */
export function mergeWord(word: number[], a: number, b: number, merged: number): number[] {
  let out: number[] | null = null;
  for (let i = 0; i < word.length; i++) {
    if (i + 1 < word.length && word[i] === a && word[i + 1] === b) {
      out ??= word.slice(0, i);
      out.push(merged);
      i++;
    } else if (out) {
      out.push(word[i]);
    }
  }
  return out ?? word;
}

function countWords(texts: string[], firstByteId: number): { words: number[][]; counts: number[] } {
  const freq = new Map<string, number>();
  for (const text of texts) {
    for (const w of preTokenize(text)) freq.set(w, (freq.get(w) ?? 0) + 1);
  }
  const sorted = [...freq.keys()].sort(); // a fixed word order keeps training independent of Map order
  const byteId = new Map(BYTE_TO_CHAR.map((c, b) => [c, firstByteId + b]));
  return {
    words: sorted.map((w) => Array.from(w, (c) => byteId.get(c) as number)),
    counts: sorted.map((w) => freq.get(w) as number),
  };
}

const pairKey = (a: number, b: number): number => a * 65536 + b;
const splitKey = (key: number): [number, number] => [Math.floor(key / 65536), key % 65536];

/** Pair frequencies over all words, the words each pair occurs in, and a lazy max-heap of pairs. */
class PairCounts {
  private readonly count = new Map<number, number>();
  private readonly where = new Map<number, Set<number>>();
  private readonly heap: [number, number][] = []; // [count, key]; entries go stale when counts change
  private readonly dirty = new Set<number>();

  addWord(word: number[], freq: number, index: number): void {
    for (let i = 0; i + 1 < word.length; i++) {
      const key = pairKey(word[i], word[i + 1]);
      this.count.set(key, (this.count.get(key) ?? 0) + freq);
      let set = this.where.get(key);
      if (!set) this.where.set(key, (set = new Set()));
      set.add(index);
      this.dirty.add(key);
    }
  }

  removeWord(word: number[], freq: number): void {
    for (let i = 0; i + 1 < word.length; i++) {
      const key = pairKey(word[i], word[i + 1]);
      this.count.set(key, (this.count.get(key) as number) - freq);
      this.dirty.add(key);
    }
  }

  wordsWith(key: number): number[] {
    const set = this.where.get(key);
    this.where.delete(key);
    return set ? [...set] : [];
  }

  /** The most frequent pair, or null if none reaches minFrequency. Merging it zeroes its count. */
  popBest(minFrequency: number): number | null {
    for (const key of this.dirty) this.push([this.count.get(key) as number, key]);
    this.dirty.clear();
    while (this.heap.length > 0) {
      const [c, key] = this.pop();
      if (this.count.get(key) !== c) continue; // stale entry
      return c < minFrequency ? null : key;
    }
    return null;
  }

  private before(x: [number, number], y: [number, number]): boolean {
    return x[0] > y[0] || (x[0] === y[0] && x[1] < y[1]);
  }

  private push(entry: [number, number]): void {
    const h = this.heap;
    h.push(entry);
    for (let i = h.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!this.before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  private pop(): [number, number] {
    const h = this.heap;
    const top = h[0];
    const last = h.pop() as [number, number];
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.before(h[l], h[m])) m = l;
        if (r < h.length && this.before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}
