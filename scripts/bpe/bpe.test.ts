import { Tokenizer } from '@huggingface/tokenizers';
import { beforeAll, describe, expect, it } from 'vitest';
import { splitMobyDick } from '../corpus/mobyDick';
import { BYTE_TO_CHAR, fromByteLevel, preTokenize } from './byteLevel';
import { BpeEncoder } from './encode';
import { SPECIAL_TOKENS, tokenizerConfigJson, tokenizerJson } from './hfFiles';
import { mergeWord, trainBpe, type BpeModel } from './train';

describe('byte-level BPE pieces', () => {
  it('maps bytes to 256 distinct printable characters, space to Ġ', () => {
    expect(new Set(BYTE_TO_CHAR).size).toBe(256);
    expect(BYTE_TO_CHAR[32]).toBe('Ġ');
    expect(BYTE_TO_CHAR[10]).toBe('Ċ');
    expect(BYTE_TO_CHAR[65]).toBe('A');
    expect(fromByteLevel(preTokenize('naïve — “whale” 🐋').join(''))).toBe('naïve — “whale” 🐋');
  });

  it('splits words like GPT-2', () => {
    expect(preTokenize("I'll  go 42x!")).toEqual(['I', "'ll", 'Ġ', 'Ġgo', 'Ġ42', 'x', '!']);
  });

  it('merges leftmost non-overlapping pairs', () => {
    expect(mergeWord([1, 1, 1], 1, 1, 9)).toEqual([9, 1]);
    expect(mergeWord([1, 2, 3, 1, 2], 1, 2, 9)).toEqual([9, 3, 9]);
    const w = [3, 4];
    expect(mergeWord(w, 1, 2, 9)).toBe(w);
  });

  it('learns the most frequent pairs in order (hand-computed)', () => {
    // words: "ab", "Ġab" ×2, "Ġabc" → (a,b) 4, then (Ġ,ab) 3, then (Ġab,c) 1 < minFrequency 2
    const m = trainBpe(['ab ab ab abc'], { vocabSize: 400, specialTokens: ['<s>'] });
    expect(m.merges).toEqual([
      ['a', 'b'],
      ['Ġ', 'ab'],
    ]);
    expect(m.tokens.slice(257)).toEqual(['ab', 'Ġab']);
    expect(m.tokens[0]).toBe('<s>');
  });
});

describe('tokenizer trained on Moby Dick', () => {
  let model: BpeModel;
  let hf: Tokenizer;
  let own: BpeEncoder;
  let paragraphs: string[];

  beforeAll(() => {
    const { train, validation } = splitMobyDick();
    const started = Date.now();
    model = trainBpe(
      train.map((c) => c.text),
      { vocabSize: 1024, specialTokens: SPECIAL_TOKENS },
    );
    console.log(`trained ${model.tokens.length} tokens in ${Date.now() - started} ms`);
    hf = new Tokenizer(tokenizerJson(model), tokenizerConfigJson(model, 256));
    own = new BpeEncoder(model);
    paragraphs = validation.flatMap((c) => c.text.split('\n\n')).slice(0, 300);
  });

  it('is deterministic', () => {
    const again = trainBpe(
      splitMobyDick().train.map((c) => c.text),
      { vocabSize: 1024, specialTokens: SPECIAL_TOKENS },
    );
    expect(again).toEqual(model);
    expect(new Set(model.tokens).size).toBe(model.tokens.length);
  });

  it('loads in @huggingface/tokenizers and encodes exactly as the trainer does', () => {
    let tokens = 0;
    const extra = [
      '  two  spaces\n\n\ttab',
      "don't 1851 £3,000",
      'Ahab 🐋 çà',
      `a${SPECIAL_TOKENS[0]}b ${SPECIAL_TOKENS[2]}\n`,
    ];
    for (const text of [...paragraphs, ...extra]) {
      const ids = own.encode(text);
      expect(hf.encode(text).ids).toEqual(ids);
      tokens += ids.length;
    }
    const chars = paragraphs.reduce((n, p) => n + p.length, 0);
    console.log(
      `${paragraphs.length} held-out paragraphs: ${chars} chars → ${tokens} tokens, identical in both encoders`,
    );
    expect(hf.token_to_id('<|endoftext|>')).toBe(0);
    expect(hf.encode('<|im_start|>user').ids[0]).toBe(1);
  });

  it('round-trips text through encode and decode', () => {
    for (const text of [...paragraphs, 'naïve — “whale” 🐋\r\n  end ']) {
      const ids = hf.encode(text).ids;
      expect(hf.decode(ids)).toBe(text);
      expect(own.decode(ids)).toBe(text);
    }
    expect(hf.decode(own.encode(`x${SPECIAL_TOKENS[0]}y`))).toBe(`x${SPECIAL_TOKENS[0]}y`);
  });
});
