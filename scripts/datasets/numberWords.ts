/**
 * "Number words": the studio's first-run task. A prompt names a count in words and a thing,
 * the answer is the count in digits:
 *
 *   {"prompt": "seven harpoons =", "completion": " 7"}
 *
 * The embedded model has never seen the format, so it starts at 0% exact match; the answer
 * depends only on the number word (nine of them, one digit each), so a few dozen S²FT steps on the
 * o_proj/down_proj units can learn it. The test split uses things never named in training,
 * so a right answer there means the model learned to read the number and ignore the thing.
 */
import { mixSeed, permutation } from '../../src/core/random';

export interface NumberWordRow {
  prompt: string;
  completion: string;
}

export const NUMBER_WORDS = ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'] as const;

/** Things from Moby Dick whose plural is the word plus "s". */
export const TRAIN_THINGS = [
  'whale',
  'ship',
  'boat',
  'oar',
  'mast',
  'sail',
  'harpoon',
  'sailor',
  'captain',
  'island',
  'wave',
  'anchor',
  'rope',
  'barrel',
  'lance',
  'flag',
  'bird',
  'shark',
  'coin',
  'lamp',
  'hammer',
  'candle',
  'bell',
  'cabin',
  'deck',
  'bone',
  'jaw',
  'fin',
  'star',
  'cloud',
  'storm',
  'hour',
  'day',
  'night',
  'year',
  'mile',
] as const;

/** Never in the training split. */
export const TEST_THINGS = [
  'chart',
  'compass',
  'bucket',
  'cask',
  'pipe',
  'hat',
  'book',
  'shell',
  'rock',
  'wing',
  'door',
  'plank',
] as const;

/** "one whale", "seven whales". */
export function numberWordPrompt(count: number, thing: string): string {
  return `${NUMBER_WORDS[count - 1]} ${thing}${count === 1 ? '' : 's'} =`;
}

const row = (count: number, thing: string): NumberWordRow => ({
  prompt: numberWordPrompt(count, thing),
  completion: ` ${count}`,
});

export interface NumberWordSplits {
  train: NumberWordRow[];
  test: NumberWordRow[];
}

/** Numbers each test thing is asked with. */
const PER_TEST_THING = 3;

/**
 * Training: every (number, thing) pair of the training things, in a seeded order. Test: each
 * test thing with three numbers, each number used equally often, in a seeded order.
 */
export function generateNumberWords(seed: number): NumberWordSplits {
  const train = TRAIN_THINGS.flatMap((thing) => NUMBER_WORDS.map((_, i) => row(i + 1, thing)));
  const slots = TEST_THINGS.length * PER_TEST_THING;
  const numbers = Array.from(permutation(slots, mixSeed(seed, 1)), (i) => (i % NUMBER_WORDS.length) + 1);
  const test = TEST_THINGS.flatMap((thing, t) =>
    numbers.slice(PER_TEST_THING * t, PER_TEST_THING * (t + 1)).map((n) => row(n, thing)),
  );
  return { train: shuffled(train, mixSeed(seed, 2)), test: shuffled(test, mixSeed(seed, 3)) };
}

function shuffled<T>(items: T[], seed: number): T[] {
  return Array.from(permutation(items.length, seed), (i) => items[i]);
}

export const numberWordsJsonl = (rows: NumberWordRow[]): string => rows.map((r) => `${JSON.stringify(r)}\n`).join('');
