/**
 * From tokenized examples to fixed-shape batches, in a seeded order that a run can resume exactly.
 *
 * A "unit" is up to T+1 tokens: its first T are the inputs and labels[t] = ids[t+1] where that
 * token is a target (nextTokenLabels), so every token after the first is predicted once.
 *  - pack: examples are concatenated (an end-of-sequence token between them when the model has
 *    one) and cut into windows that overlap by one token, nanoGPT-style.
 *  - no pack: each example is one unit, truncated to T+1 tokens.
 * Short units are padded with the eos id (or 0) and label -100. Units with no target are dropped.
 * Each epoch visits the units in the permutation seeded by (seed, epoch).
 */
import { UserError } from '../errors';
import { IGNORE_INDEX, type Batch } from './batch';
import type { ParsedDataset, TokenizedExample } from './data';
import { mixSeed, permutation } from '../random';

export type BatchSource = Pick<ParsedDataset, 'examples' | 'eosTokenId'>;

export interface BatchOptions {
  batchSize: number; // B
  seqLen: number; // T
  seed: number;
  pack: boolean;
  shuffle: boolean;
  /** makeBatches only: drop the final batch when it has fewer than batchSize rows. */
  dropLast?: boolean;
}

/** Where a BatchStream is: the next unit to take is order(epoch)[index]. */
export interface DataPosition {
  epoch: number;
  index: number;
}

interface Unit {
  ids: number[]; // ≤ T+1 tokens
  mask: boolean[];
}

/** .txt files are one long document and should be packed; .jsonl rows usually not. */
export function shouldPack(dataset: Pick<ParsedDataset, 'format'>): boolean {
  return dataset.format === 'txt';
}

/** Packed text's window when the config leaves seqLen to the data, and the cap on a row chosen by length. */
const TXT_SEQ_LEN = 128;
const MAX_DEFAULT_SEQ_LEN = 1024;

/**
 * Tokens per row: `seqLen` when given (> 0), else 128 for packed text, else the longest row minus
 * one (capped at 1024), so no row is cut off; never more than the model's positions.
 */
export function chooseSeqLen(
  data: { examples: readonly TokenizedExample[]; pack: boolean },
  seqLen: number,
  maxPositions: number,
): number {
  if (seqLen > 0) return seqLen;
  if (data.pack) return Math.min(TXT_SEQ_LEN, maxPositions);
  const longest = data.examples.reduce((n, e) => Math.max(n, e.inputIds.length), 0);
  return Math.max(1, Math.min(longest - 1, MAX_DEFAULT_SEQ_LEN, maxPositions));
}

/** One pass over the data (epoch 0's order), e.g. for evaluation. The last batch may be smaller. */
export function makeBatches(dataset: BatchSource, options: BatchOptions): Batch[] {
  const units = makeUnits(dataset, options);
  const order = epochOrder(units.length, 0, options);
  const padId = dataset.eosTokenId ?? 0;
  const batches: Batch[] = [];
  for (let start = 0; start < units.length; start += options.batchSize) {
    const rows = Array.from(order.subarray(start, start + options.batchSize), (u) => units[u]);
    if (rows.length < options.batchSize && options.dropLast) break;
    batches.push(toBatch(rows, options.seqLen, padId));
  }
  return batches;
}

/** An endless sequence of full batches across epochs; position()/seek() make a run resumable. */
export class BatchStream {
  private readonly units: Unit[];
  private readonly options: BatchOptions;
  private readonly padId: number;
  private epoch = 0;
  private index = 0;
  private order: Int32Array;

  constructor(dataset: BatchSource, options: BatchOptions) {
    this.units = makeUnits(dataset, options);
    this.options = options;
    this.padId = dataset.eosTokenId ?? 0;
    this.order = epochOrder(this.units.length, 0, options);
  }

  /** Units (windows or rows) in one epoch. */
  get unitsPerEpoch(): number {
    return this.units.length;
  }

  next(): Batch {
    const rows: Unit[] = [];
    while (rows.length < this.options.batchSize) {
      if (this.index === this.units.length) this.seek({ epoch: this.epoch + 1, index: 0 });
      rows.push(this.units[this.order[this.index++]]);
    }
    return toBatch(rows, this.options.seqLen, this.padId);
  }

  position(): DataPosition {
    return { epoch: this.epoch, index: this.index };
  }

  seek(position: DataPosition): void {
    const { epoch, index } = position;
    if (!Number.isInteger(epoch) || epoch < 0 || !Number.isInteger(index) || index < 0 || index > this.units.length) {
      throw new UserError(
        'bad-argument',
        `data position (epoch ${epoch}, index ${index}) does not fit this dataset ` +
          `(${this.units.length} units an epoch); was the run saved with other data or settings?`,
      );
    }
    if (epoch !== this.epoch) this.order = epochOrder(this.units.length, epoch, this.options);
    this.epoch = epoch;
    this.index = index;
  }
}

/**
 * Splits examples into train and validation. Several examples: a seeded random `fraction` of
 * them (at least one) is held out. One example (a .txt file): its last `fraction` of tokens is
 * held out, contiguous, so no window of validation text also appears in training.
 */
export function splitTrainValidation(
  examples: TokenizedExample[],
  fraction: number,
  seed: number,
): { train: TokenizedExample[]; validation: TokenizedExample[] } {
  if (!(fraction >= 0 && fraction < 1)) {
    throw new UserError('bad-argument', `validation fraction must be in [0, 1), got ${fraction}`);
  }
  if (fraction === 0) return { train: examples, validation: [] };
  if (examples.length === 1) {
    const [only] = examples;
    const cut = only.inputIds.length - Math.ceil(fraction * only.inputIds.length);
    if (cut < 2 || only.inputIds.length - cut < 2) {
      throw new UserError(
        'bad-argument',
        `the text has ${only.inputIds.length} tokens, too few to hold out a validation part`,
      );
    }
    const part = (from: number, to?: number): TokenizedExample => ({
      inputIds: only.inputIds.slice(from, to),
      lossMask: only.lossMask.slice(from, to),
      source: only.source,
    });
    return { train: [part(0, cut)], validation: [part(cut)] };
  }
  const held = Math.max(1, Math.round(fraction * examples.length));
  if (held >= examples.length) {
    throw new UserError(
      'bad-argument',
      `the dataset has ${examples.length} examples, too few to hold out a validation part`,
    );
  }
  const isHeld = new Uint8Array(examples.length);
  permutation(examples.length, mixSeed(seed, 0x5eed))
    .subarray(0, held)
    .forEach((i) => {
      isHeld[i] = 1;
    });
  return {
    train: examples.filter((_, i) => !isHeld[i]),
    validation: examples.filter((_, i) => isHeld[i]),
  };
}

function checkOptions({ batchSize, seqLen }: BatchOptions): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new UserError('bad-argument', `batch size must be a positive integer, got ${batchSize}`);
  }
  if (!Number.isInteger(seqLen) || seqLen < 1) {
    throw new UserError('bad-argument', `sequence length must be a positive integer, got ${seqLen}`);
  }
}

function makeUnits(dataset: BatchSource, options: BatchOptions): Unit[] {
  checkOptions(options);
  const all = options.pack
    ? packWindows(dataset, options.seqLen)
    : dataset.examples.map((e) => ({
        ids: e.inputIds.slice(0, options.seqLen + 1),
        mask: e.lossMask.slice(0, options.seqLen + 1),
      }));
  const units = all.filter((u) => u.mask.some((target, t) => target && t > 0));
  if (units.length === 0) {
    throw new UserError(
      'bad-argument',
      `no example has a target token within the first ${options.seqLen + 1} tokens; ` +
        'raise the sequence length or shorten the prompts',
    );
  }
  return units;
}

function packWindows(dataset: BatchSource, seqLen: number): Unit[] {
  const ids: number[] = [];
  const mask: boolean[] = [];
  const eos = dataset.eosTokenId;
  for (const e of dataset.examples) {
    if (ids.length > 0 && eos !== null && ids[ids.length - 1] !== eos) {
      ids.push(eos);
      mask.push(true);
    }
    for (let t = 0; t < e.inputIds.length; t++) {
      ids.push(e.inputIds[t]);
      mask.push(e.lossMask[t]);
    }
  }
  const units: Unit[] = [];
  for (let start = 0; start + 1 < ids.length; start += seqLen) {
    units.push({ ids: ids.slice(start, start + seqLen + 1), mask: mask.slice(start, start + seqLen + 1) });
  }
  return units;
}

function epochOrder(n: number, epoch: number, options: BatchOptions): Int32Array {
  if (options.shuffle) return permutation(n, mixSeed(options.seed, epoch));
  return Int32Array.from({ length: n }, (_, i) => i);
}

function toBatch(rows: Unit[], seqLen: number, padId: number): Batch {
  const B = rows.length;
  const inputIds = new Int32Array(B * seqLen).fill(padId); // [B*T]
  const labels = new Int32Array(B * seqLen).fill(IGNORE_INDEX); // [B*T]
  rows.forEach(({ ids, mask }, b) => {
    for (let t = 0; t < seqLen && t < ids.length; t++) {
      inputIds[b * seqLen + t] = ids[t];
      if (t + 1 < ids.length && mask[t + 1]) labels[b * seqLen + t] = ids[t + 1];
    }
  });
  return { batchSize: B, seqLen, inputIds, labels };
}
