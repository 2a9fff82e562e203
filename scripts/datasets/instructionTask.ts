/**
 * "Toy tasks": five small instruction-following tasks with exact answers, generated from a seed,
 * for measuring in- and out-of-distribution accuracy after fine-tuning.
 *
 *   add       "12 + 30" → "42"                 values: operands 0–49   shifted: 50–99
 *   larger    "17 and 4" → "17"                values: 0–49            shifted: 50–99
 *   reverse   "sea whale ship" → "ship whale sea"   training words, 2–4   shifted: held-out words
 *   count     "oar boat sea" → "3"             2–6 words               shifted: 7–9 words
 *   capitals  "whale" → "WHALE"                training words          shifted: held-out words
 *
 * Each task has three training phrasings of its instruction and one held-out phrasing. The
 * in-distribution test split draws from the training distribution but never repeats a training
 * (instruction, input) pair; the shifted split has half its rows with unseen values (training
 * phrasings) and half with the unseen phrasing (training values).
 */
import { mulberry32, permutation, mixSeed } from '../../src/core/random';

export interface TaskRow {
  instruction: string;
  input: string;
  output: string;
  task: string;
  /** Only in the shifted split: what is new about the row. */
  shift?: 'values' | 'phrasing';
}

export interface TaskSizes {
  train: number; // rows per task
  test: number; // rows per task
  shifted: number; // rows per task (half values, half phrasing)
}

export const DEFAULT_TASK_SIZES: TaskSizes = { train: 400, test: 50, shifted: 50 };

type Random = () => number;

interface Words {
  train: string[];
  heldOut: string[];
}

interface Task {
  name: string;
  phrasings: string[];
  shiftedPhrasing: string;
  /** An input and its exact answer, from the training values or the shifted ones. */
  sample(random: Random, words: Words, shifted: boolean): { input: string; output: string };
}

const int = (random: Random, lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
const pickWords = (random: Random, pool: string[], n: number): string[] =>
  Array.from({ length: n }, () => pool[int(random, 0, pool.length - 1)]);
const operand = (random: Random, shifted: boolean): number => (shifted ? int(random, 50, 99) : int(random, 0, 49));

const TASKS: Task[] = [
  {
    name: 'add',
    phrasings: ['Add the two numbers.', 'What is the sum?', 'Compute the total.'],
    shiftedPhrasing: 'Work out what these numbers come to together and give only the result.',
    sample(random, _words, shifted) {
      const a = operand(random, shifted);
      const b = operand(random, shifted);
      return { input: `${a} + ${b}`, output: String(a + b) };
    },
  },
  {
    name: 'larger',
    phrasings: ['Which number is larger?', 'Give the bigger of the two numbers.', 'Name the greater number.'],
    shiftedPhrasing: 'Of these two numbers, which one has the higher value?',
    sample(random, _words, shifted) {
      const a = operand(random, shifted);
      let b = operand(random, shifted);
      while (b === a) b = operand(random, shifted);
      return { input: `${a} and ${b}`, output: String(Math.max(a, b)) };
    },
  },
  {
    name: 'reverse',
    phrasings: [
      'Reverse the order of the words.',
      'Write the words backwards, last word first.',
      'Put these words in reverse order.',
    ],
    shiftedPhrasing: 'Starting from the end, list the words again.',
    sample(random, words, shifted) {
      const list = pickWords(random, shifted ? words.heldOut : words.train, int(random, 2, 4));
      return { input: list.join(' '), output: [...list].reverse().join(' ') };
    },
  },
  {
    name: 'count',
    phrasings: ['How many words are there?', 'Count the words.', 'Say how many words follow.'],
    shiftedPhrasing: 'Tell me the number of words in the list.',
    sample(random, words, shifted) {
      const list = pickWords(random, words.train, shifted ? int(random, 7, 9) : int(random, 2, 6));
      return { input: list.join(' '), output: String(list.length) };
    },
  },
  {
    name: 'capitals',
    phrasings: ['Write the word in capital letters.', 'Convert the word to upper case.', 'Spell the word in capitals.'],
    shiftedPhrasing: 'Give this word back with every letter capitalised.',
    sample(random, words, shifted) {
      const word = pickWords(random, shifted ? words.heldOut : words.train, 1)[0];
      return { input: word, output: word.toUpperCase() };
    },
  },
];

export const TASK_NAMES = TASKS.map((t) => t.name);

/**
 * The task words: common lowercase words of 3–8 letters from a corpus, skipping the 50 most
 * frequent (mostly function words); every 4th is held out for the shifted split.
 */
export function taskWords(corpus: string, count = 240): Words {
  const freq = new Map<string, number>();
  for (const w of corpus.match(/\b[a-z]{3,8}\b/g) ?? []) freq.set(w, (freq.get(w) ?? 0) + 1);
  const ranked = [...freq.entries()]
    .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
    .slice(50, 50 + count)
    .map(([w]) => w);
  return {
    train: ranked.filter((_, i) => i % 4 !== 3),
    heldOut: ranked.filter((_, i) => i % 4 === 3),
  };
}

export interface TaskSplits {
  train: TaskRow[];
  test: TaskRow[];
  shifted: TaskRow[];
}

export function generateTasks(seed: number, words: Words, sizes: TaskSizes = DEFAULT_TASK_SIZES): TaskSplits {
  const trainKeys = new Set<string>();
  const train: TaskRow[] = [];
  const test: TaskRow[] = [];
  const shifted: TaskRow[] = [];
  TASKS.forEach((task, t) => {
    const random = mulberry32(mixSeed(seed, t));
    const row = (phrasing: string, shiftedValues: boolean): TaskRow => {
      const { input, output } = task.sample(random, words, shiftedValues);
      return { instruction: phrasing, input, output, task: task.name };
    };
    const anyPhrasing = (): string => task.phrasings[int(random, 0, task.phrasings.length - 1)];
    for (let i = 0; i < sizes.train; i++) {
      const r = row(anyPhrasing(), false);
      train.push(r);
      trainKeys.add(key(r));
    }
    test.push(...distinctRows(sizes.test, trainKeys, () => row(anyPhrasing(), false), task.name));
    const half = Math.floor(sizes.shifted / 2);
    shifted.push(...distinctRows(half, trainKeys, () => ({ ...row(anyPhrasing(), true), shift: 'values' }), task.name));
    shifted.push(
      ...distinctRows(
        sizes.shifted - half,
        trainKeys,
        () => ({ ...row(task.shiftedPhrasing, false), shift: 'phrasing' }),
        task.name,
      ),
    );
  });
  // Interleave the tasks so that any prefix of a file is a fair sample.
  const shuffled = (rows: TaskRow[], salt: number): TaskRow[] =>
    Array.from(permutation(rows.length, mixSeed(seed, salt)), (i) => rows[i]);
  return { train: shuffled(train, 101), test: shuffled(test, 102), shifted: shuffled(shifted, 103) };
}

/** Rows whose (instruction, input) pair is new to the training set and to each other. */
function distinctRows(n: number, trainKeys: Set<string>, make: () => TaskRow, task: string): TaskRow[] {
  const seen = new Set<string>();
  const rows: TaskRow[] = [];
  for (let attempts = 0; rows.length < n; attempts++) {
    if (attempts > 1000 * n) throw new Error(`task ${task}: cannot find ${n} test rows that are not in training`);
    const r = make();
    if (trainKeys.has(key(r)) || seen.has(key(r))) continue;
    seen.add(key(r));
    rows.push(r);
  }
  return rows;
}

export const key = (r: Pick<TaskRow, 'instruction' | 'input'>): string => `${r.instruction}\u0000${r.input}`;

/** One JSON object a line, keys in a fixed order. */
export function toJsonl(rows: TaskRow[]): string {
  return rows.map((r) => `${JSON.stringify(r)}\n`).join('');
}
