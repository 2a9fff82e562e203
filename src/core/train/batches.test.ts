import { describe, expect, it } from 'vitest';
import { UserError } from '../errors';
import type { Batch } from './batch';
import { BatchStream, makeBatches, shouldPack, splitTrainValidation, type BatchOptions } from './batches';
import type { TokenizedExample } from './data';
import { nextTokenLabels } from './loss';
import { permutation } from '../random';

const P = -100;
const ex = (inputIds: number[], lossMask = inputIds.map(() => true), source = 1): TokenizedExample => ({
  inputIds,
  lossMask,
  source,
});
const rows = (b: Batch, field: 'inputIds' | 'labels'): number[][] =>
  Array.from({ length: b.batchSize }, (_, i) => Array.from(b[field].subarray(i * b.seqLen, (i + 1) * b.seqLen)));
const opts = (o: Partial<BatchOptions>): BatchOptions => ({
  batchSize: 1,
  seqLen: 3,
  seed: 1,
  pack: false,
  shuffle: false,
  ...o,
});

describe('makeBatches', () => {
  it('packs examples with an eos between them into windows that overlap by one token', () => {
    const data = { examples: [ex([10, 11, 12]), ex([20, 21])], eosTokenId: 0 };
    const [b] = makeBatches(data, opts({ batchSize: 2, pack: true }));
    // stream 10 11 12 0 20 21 → windows [10 11 12 | 0] and [0 20 21 | –]
    expect(rows(b, 'inputIds')).toEqual([
      [10, 11, 12],
      [0, 20, 21],
    ]);
    expect(rows(b, 'labels')).toEqual([
      [11, 12, 0],
      [20, 21, P],
    ]);
  });

  it('keeps the loss mask across packing (a prompt token is never a label)', () => {
    const data = { examples: [ex([1, 2, 3], [false, false, true]), ex([4, 5], [false, true])], eosTokenId: null };
    const [b] = makeBatches(data, opts({ batchSize: 1, seqLen: 5, pack: true }));
    expect(rows(b, 'inputIds')).toEqual([[1, 2, 3, 4, 5]]); // no eos id → no separator
    expect(rows(b, 'labels')).toEqual([[P, 3, P, 5, P]]);
  });

  it('truncates and pads unpacked rows; labels follow nextTokenLabels', () => {
    const long = ex([5, 6, 7, 8, 9], [false, false, true, true, true]);
    const short = ex([3, 4]);
    const [b] = makeBatches({ examples: [long, short], eosTokenId: 2 }, opts({ batchSize: 2 }));
    expect(rows(b, 'inputIds')).toEqual([
      [5, 6, 7],
      [3, 4, 2],
    ]);
    expect(rows(b, 'labels')).toEqual([
      [P, 7, 8],
      [4, P, P],
    ]);
    // Independent check: the shifted labels of the first T+1 tokens, last position dropped.
    const reference = Array.from(nextTokenLabels([5, 6, 7, 8], [false, false, true, true])).slice(0, 3);
    expect(rows(b, 'labels')[0]).toEqual(reference);
  });

  it('drops units with no target and refuses data with none at all', () => {
    const data = { examples: [ex([1, 2, 3, 4], [false, false, false, false]), ex([7, 8])], eosTokenId: 0 };
    expect(makeBatches(data, opts({ batchSize: 4 }))[0].batchSize).toBe(1);
    const promptOnly = { examples: [ex([1, 2, 3, 4, 5], [false, false, false, false, true])], eosTokenId: 0 };
    expect(() => makeBatches(promptOnly, opts({ seqLen: 3 }))).toThrow(
      /no example has a target token within the first 4 tokens/,
    );
  });

  it('is deterministic for a seed, differs across seeds, and keeps or drops the last batch', () => {
    const examples = Array.from({ length: 10 }, (_, i) => ex([100 + i, 1]));
    const data = { examples, eosTokenId: 0 };
    const firsts = (bs: Batch[]): number[] => bs.flatMap((b) => rows(b, 'inputIds').map((r) => r[0]));
    const a = makeBatches(data, opts({ batchSize: 4, shuffle: true, seed: 7 }));
    expect(a).toEqual(makeBatches(data, opts({ batchSize: 4, shuffle: true, seed: 7 })));
    expect(firsts(a)).not.toEqual(firsts(makeBatches(data, opts({ batchSize: 4, shuffle: true, seed: 8 }))));
    expect(a.map((b) => b.batchSize)).toEqual([4, 4, 2]);
    expect([...firsts(a)].sort()).toEqual(examples.map((e) => e.inputIds[0]));
    expect(makeBatches(data, opts({ batchSize: 4, dropLast: true })).map((b) => b.batchSize)).toEqual([4, 4]);
  });

  it('refuses bad sizes', () => {
    const data = { examples: [ex([1, 2])], eosTokenId: 0 };
    expect(() => makeBatches(data, opts({ batchSize: 0 }))).toThrow(UserError);
    expect(() => makeBatches(data, opts({ seqLen: 2.5 }))).toThrow(
      /sequence length must be a positive integer, got 2.5/,
    );
  });

  it('packs .txt and not .jsonl by default', () => {
    expect(shouldPack({ format: 'txt' })).toBe(true);
    expect(shouldPack({ format: 'jsonl' })).toBe(false);
  });
});

describe('BatchStream', () => {
  const examples = Array.from({ length: 7 }, (_, i) => ex([50 + i, 60 + i, 70 + i]));
  const data = { examples, eosTokenId: 0 };
  const options = opts({ batchSize: 3, seqLen: 2, shuffle: true, seed: 42 });

  it('visits every unit once per epoch, in a new order each epoch, with full batches across epochs', () => {
    const stream = new BatchStream(data, options);
    const firsts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const b = stream.next();
      expect(b.batchSize).toBe(3);
      firsts.push(...rows(b, 'inputIds').map((r) => r[0]));
    }
    const epoch0 = firsts.slice(0, 7);
    const epoch1 = firsts.slice(7, 14);
    expect([...epoch0].sort()).toEqual([50, 51, 52, 53, 54, 55, 56]);
    expect([...epoch1].sort()).toEqual([50, 51, 52, 53, 54, 55, 56]);
    expect(epoch0).not.toEqual(epoch1);
    expect(stream.position()).toEqual({ epoch: 2, index: 1 });
  });

  it('matches makeBatches on the first epoch', () => {
    const stream = new BatchStream(data, options);
    const once = makeBatches(data, { ...options, dropLast: true });
    expect(once.map(() => stream.next())).toEqual(once);
  });

  it('resumes exactly from a saved position, also across an epoch boundary', () => {
    for (const stop of [0, 2, 3, 5]) {
      const original = new BatchStream(data, options);
      for (let i = 0; i < stop; i++) original.next();
      const saved = JSON.parse(JSON.stringify(original.position()));
      const expected = Array.from({ length: 6 }, () => original.next());
      const resumed = new BatchStream(data, options);
      resumed.seek(saved);
      expect(Array.from({ length: 6 }, () => resumed.next())).toEqual(expected);
    }
  });

  it('refuses a position that does not fit the data', () => {
    const stream = new BatchStream(data, options);
    expect(() => stream.seek({ epoch: 0, index: 8 })).toThrow(
      /data position \(epoch 0, index 8\) does not fit this dataset \(7 units an epoch\)/,
    );
    expect(() => stream.seek({ epoch: -1, index: 0 })).toThrow(UserError);
  });
});

describe('splitTrainValidation', () => {
  it('holds out a seeded fraction of examples, disjoint and complete', () => {
    const examples = Array.from({ length: 20 }, (_, i) => ex([i, i], undefined, i + 1));
    const { train, validation } = splitTrainValidation(examples, 0.25, 3);
    expect(validation).toHaveLength(5);
    expect([...train, ...validation].map((e) => e.source).sort((a, b) => a - b)).toEqual(examples.map((e) => e.source));
    expect(splitTrainValidation(examples, 0.25, 3).validation).toEqual(validation);
    expect(splitTrainValidation(examples, 0.25, 4).validation).not.toEqual(validation);
  });

  it('holds out the tail of a single document', () => {
    const { train, validation } = splitTrainValidation([ex([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])], 0.2, 0);
    expect(train[0].inputIds).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(validation[0].inputIds).toEqual([9, 10]);
    expect(() => splitTrainValidation([ex([1, 2])], 0.5, 0)).toThrow(/too few to hold out/);
    expect(() => splitTrainValidation([ex([1, 2])], 1, 0)).toThrow(/validation fraction must be in \[0, 1\)/);
  });

  it('uses a seeded permutation', () => {
    expect(Array.from(permutation(6, 9))).toEqual(Array.from(permutation(6, 9)));
    expect([...permutation(50, 1)].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
