import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTokenizer, type TextTokenizer } from '../../src/core/model/tokenizer';
import { parseDataset } from '../../src/core/train/data';
import { tokenizerConfigJson, tokenizerJson, SPECIAL_TOKENS } from '../bpe/hfFiles';
import { trainBpe } from '../bpe/train';
import { isHeldOutChapter, joinChapters, splitMobyDick } from '../corpus/mobyDick';
import { buildDatasets, DEFAULT_SEED, type BuiltDatasets } from './build';
import { generateTasks, key, taskWords, toJsonl, type TaskRow } from './instructionTask';
import { generateNumberWords, NUMBER_WORDS, TEST_THINGS, TRAIN_THINGS } from './numberWords';

const SHIPPED = join(import.meta.dirname, '../../public/datasets');
const small = { train: 40, test: 10, shifted: 10 };

/** The exact answer, recomputed from the input without the generator's code. */
function answer(row: TaskRow): string {
  const numbers = row.input.split(/ \+ | and /).map(Number);
  const words = row.input.split(' ');
  switch (row.task) {
    case 'add':
      return String(numbers[0] + numbers[1]);
    case 'larger':
      return String(numbers[0] > numbers[1] ? numbers[0] : numbers[1]);
    case 'reverse':
      return words.reverse().join(' ');
    case 'count':
      return String(words.length);
    case 'capitals':
      return row.input.toUpperCase();
    default:
      throw new Error(`unknown task ${row.task}`);
  }
}

describe('number words', () => {
  const { train, test } = generateNumberWords(DEFAULT_SEED);
  /** "seven harpoons =" → 7, read back without the generator's tables. */
  const count = (prompt: string) =>
    ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'].indexOf(prompt.split(' ')[0]) + 1;
  const thing = (prompt: string) => prompt.split(' ')[1].replace(/s$/, '');

  it('answer every prompt with its number in digits, "one" with a singular thing', () => {
    for (const r of [...train, ...test]) {
      expect(r.completion, r.prompt).toBe(` ${count(r.prompt)}`);
      expect(r.prompt.endsWith('s =')).toBe(count(r.prompt) !== 1);
    }
  });

  it('train on every pair once and test on things never trained on, every number equally often', () => {
    expect(new Set(train.map((r) => r.prompt)).size).toBe(NUMBER_WORDS.length * TRAIN_THINGS.length);
    const trained = new Set(train.map((r) => thing(r.prompt)));
    expect(test.every((r) => !trained.has(thing(r.prompt)))).toBe(true);
    expect(new Set(test.map((r) => thing(r.prompt))).size).toBe(TEST_THINGS.length);
    const perNumber = new Map<number, number>();
    for (const r of test) perNumber.set(count(r.prompt), (perNumber.get(count(r.prompt)) ?? 0) + 1);
    expect([...perNumber.values()]).toEqual(NUMBER_WORDS.map(() => (3 * TEST_THINGS.length) / NUMBER_WORDS.length));
  });
});

describe('toy instruction tasks', () => {
  const words = taskWords(joinChapters(splitMobyDick().train));
  const built = generateTasks(DEFAULT_SEED, words);

  it('are deterministic for a seed', () => {
    const a = generateTasks(5, words, small);
    const b = generateTasks(5, words, small);
    expect(toJsonl(a.train) + toJsonl(a.test) + toJsonl(a.shifted)).toBe(
      toJsonl(b.train) + toJsonl(b.test) + toJsonl(b.shifted),
    );
    expect(toJsonl(generateTasks(6, words, small).train)).not.toBe(toJsonl(a.train));
  });

  it('have exact answers', () => {
    for (const row of [...built.train, ...built.test, ...built.shifted]) expect(row.output).toBe(answer(row));
  });

  it('keep both test splits disjoint from training, and shift what they say they shift', () => {
    const trainKeys = new Set(built.train.map(key));
    const trainPhrasings = new Set(built.train.map((r) => r.instruction));
    const trainWords = new Set(words.train);
    expect(words.heldOut.some((w) => trainWords.has(w))).toBe(false);
    for (const row of [...built.test, ...built.shifted]) expect(trainKeys.has(key(row))).toBe(false);
    for (const row of built.test) expect(trainPhrasings.has(row.instruction)).toBe(true);
    const byShift = { values: 0, phrasing: 0 };
    for (const row of built.shifted) {
      byShift[row.shift as 'values' | 'phrasing']++;
      if (row.shift === 'phrasing') {
        expect(trainPhrasings.has(row.instruction)).toBe(false);
        continue;
      }
      if (row.task === 'add' || row.task === 'larger') {
        expect(row.input.split(/ \+ | and /).every((n) => Number(n) >= 50)).toBe(true);
      } else if (row.task === 'count') {
        expect(Number(row.output)).toBeGreaterThanOrEqual(7);
      } else {
        expect(row.input.split(' ').every((w) => !trainWords.has(w))).toBe(true);
      }
    }
    console.log(`train ${built.train.length}, test ${built.test.length}, shifted ${built.shifted.length}`, byShift);
    expect(byShift).toEqual({ values: 125, phrasing: 125 });
  });
});

describe('shipped datasets', () => {
  let built: BuiltDatasets;
  let tokenizer: TextTokenizer;

  beforeAll(() => {
    built = buildDatasets(DEFAULT_SEED);
    const bpe = trainBpe(
      splitMobyDick()
        .train.slice(0, 40)
        .map((c) => c.text),
      { vocabSize: 512, specialTokens: SPECIAL_TOKENS },
    );
    tokenizer = loadTokenizer(tokenizerJson(bpe), tokenizerConfigJson(bpe, 256));
  });

  it('are what the generator makes, byte for byte, and under 3 MB together', () => {
    let total = 0;
    for (const [path, text] of built.files) {
      expect(readFileSync(join(SHIPPED, path), 'utf8'), `${path} is stale: run npx tsx scripts/datasets/main.ts`).toBe(
        text,
      );
      total += Buffer.byteLength(text);
    }
    console.log(`public/datasets: ${built.files.size} files, ${total} bytes`);
    expect(total).toBeLessThan(3_000_000);
    expect(buildDatasets(DEFAULT_SEED).files).toEqual(built.files);
  });

  it('parse with zero errors and have targets', () => {
    for (const entry of built.index) {
      const d = parseDataset(built.files.get(entry.file) as string, entry.file, { tokenizer });
      expect(d.errors, entry.file).toEqual([]);
      expect(d.counts.targetTokens).toBeGreaterThan(0);
      if (entry.format === 'jsonl') expect(d.examples).toHaveLength(entry.rows as number);
      console.log(
        `${entry.file}: ${d.counts.examples} examples, ${d.counts.tokens} tokens, ${d.counts.targetTokens} targets`,
      );
    }
  });

  it('train chat rows on the assistant turns as the ChatML template renders them', () => {
    const row = {
      messages: [
        { role: 'user', content: 'Who is Ahab?' },
        { role: 'assistant', content: 'The captain.' },
      ],
    };
    const d = parseDataset(JSON.stringify(row), 'chat.jsonl', { tokenizer });
    const [e] = d.examples;
    expect(tokenizer.decode(e.inputIds)).toBe(
      '<|im_start|>user\nWho is Ahab?<|im_end|>\n<|im_start|>assistant\nThe captain.<|im_end|>\n',
    );
    expect(tokenizer.decode(e.inputIds.filter((_, t) => e.lossMask[t]))).toBe('The captain.<|im_end|>\n');
  });

  it('hold out exactly the chapters pretraining does not train on', () => {
    const text = built.files.get('moby-dick-heldout/moby-dick-heldout.txt') as string;
    const { train, validation } = splitMobyDick();
    expect(validation.map((c) => c.id)).toEqual([
      '10',
      '20',
      '30',
      '40',
      '50',
      '60',
      '70',
      '80',
      '90',
      '100',
      '110',
      '120',
      '130',
    ]);
    expect(train.some((c) => isHeldOutChapter(c.id))).toBe(false);
    expect(train.length + validation.length).toBe(138);
    expect(text).toContain('CHAPTER 10. ');
    expect(text).not.toContain('CHAPTER 11. ');
  });
});
