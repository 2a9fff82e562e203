/**
 * The trainer's own BPE encoder, independent of @huggingface/tokenizers, used to check that the
 * exported tokenizer.json encodes exactly as trained: special tokens are matched first, the rest
 * is split into GPT-2 words, and within a word the lowest-rank merge is applied (leftmost first)
 * until none applies.
 */
import { fromByteLevel, preTokenize } from './byteLevel';
import type { BpeModel } from './train';

export class BpeEncoder {
  private readonly ids: Map<string, number>;
  private readonly ranks: Map<string, number>;
  private readonly special: RegExp | null;
  private readonly cache = new Map<string, number[]>();

  constructor(private readonly model: BpeModel) {
    this.ids = new Map(model.tokens.map((t, i) => [t, i]));
    this.ranks = new Map(model.merges.map(([a, b], rank) => [`${a} ${b}`, rank]));
    const escaped = model.specialTokens.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.special = escaped.length > 0 ? new RegExp(`(${escaped.join('|')})`) : null;
  }

  encode(text: string): number[] {
    const pieces = this.special ? text.split(this.special) : [text];
    const out: number[] = [];
    pieces.forEach((piece, i) => {
      // split() with a capture group puts the matched special tokens at odd positions
      if (i % 2 === 1) out.push(this.ids.get(piece) as number);
      else for (const word of preTokenize(piece)) out.push(...this.encodeWord(word));
    });
    return out;
  }

  decode(ids: number[]): string {
    const special = new Set(this.model.specialTokens);
    let out = '';
    let run = '';
    for (const id of ids) {
      const token = this.model.tokens[id];
      if (special.has(token)) {
        out += fromByteLevel(run) + token;
        run = '';
      } else {
        run += token;
      }
    }
    return out + fromByteLevel(run);
  }

  private encodeWord(word: string): number[] {
    const cached = this.cache.get(word);
    if (cached) return cached;
    let symbols = Array.from(word);
    for (;;) {
      let bestRank = Infinity;
      let bestAt = -1;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const rank = this.ranks.get(`${symbols[i]} ${symbols[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          bestAt = i;
        }
      }
      if (bestAt < 0) break;
      symbols = [...symbols.slice(0, bestAt), symbols[bestAt] + symbols[bestAt + 1], ...symbols.slice(bestAt + 2)];
    }
    const ids = symbols.map((s) => this.ids.get(s) as number);
    this.cache.set(word, ids);
    return ids;
  }
}
