/**
 * A byte-level BPE tokenizer.json of exactly a model's vocabulary size, for test checkpoints:
 * the studio's three special tokens, the 256 bytes, then merges that spell every string over
 * lowercase letters and space, shortest first ("a b", …, "ab c", …), until the vocabulary is full.
 * Real text tokenizes (every byte has a token); the merges are not any real model's.
 */
import { BYTE_TO_CHAR } from '../bpe/byteLevel';
import { SPECIAL_TOKENS, tokenizerConfigJson, tokenizerJson } from '../bpe/hfFiles';
import type { BpeModel } from '../bpe/train';

export function syntheticBpe(vocabSize: number): BpeModel {
  const bytes = [...BYTE_TO_CHAR];
  const tokens = [...SPECIAL_TOKENS, ...bytes];
  if (vocabSize < tokens.length)
    throw new Error(`a vocabulary of ${vocabSize} cannot hold the ${tokens.length} base tokens`);
  const alphabet = [...'abcdefghijklmnopqrstuvwxyz '].map((c) => BYTE_TO_CHAR[c.charCodeAt(0)]);
  const merges: [string, string][] = [];
  let previous = alphabet; // strings of the current length, all tokens already
  while (tokens.length < vocabSize) {
    const next: string[] = [];
    for (const prefix of previous) {
      for (const c of alphabet) {
        if (tokens.length >= vocabSize) break;
        merges.push([prefix, c]);
        tokens.push(prefix + c);
        next.push(prefix + c);
      }
    }
    previous = next;
  }
  return { tokens, merges, specialTokens: [...SPECIAL_TOKENS] };
}

/** tokenizer.json and tokenizer_config.json (ChatML template) of a synthetic vocabulary. */
export function syntheticTokenizerFiles(vocabSize: number, maxLength: number): Record<string, object> {
  const model = syntheticBpe(vocabSize);
  return { 'tokenizer.json': tokenizerJson(model), 'tokenizer_config.json': tokenizerConfigJson(model, maxLength) };
}
