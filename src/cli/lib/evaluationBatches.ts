/** The batches `eval` scores (and the paper-claims experiment, which reports the same losses). */
import type { Batch } from '../../core/train/batch';
import { makeBatches } from '../../core/train/batches';
import type { ParsedDataset } from '../../core/train/data';

const DEFAULT_TXT_SEQ_LEN = 256;

/** One batch per unit: a .jsonl row at its own length (no padding), or a packed .txt window. */
export function evaluationBatches(dataset: ParsedDataset, seqLen: number | undefined): Batch[] {
  const options = { batchSize: 1, seed: 0, shuffle: false };
  if (dataset.format === 'txt')
    return makeBatches(dataset, { ...options, pack: true, seqLen: seqLen ?? DEFAULT_TXT_SEQ_LEN });
  return dataset.examples.flatMap((example) => {
    const T = Math.min(example.inputIds.length - 1, seqLen ?? Infinity);
    return T < 1
      ? []
      : makeBatches({ examples: [example], eosTokenId: dataset.eosTokenId }, { ...options, pack: false, seqLen: T });
  });
}
