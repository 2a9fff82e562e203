/**
 * Trains the studio's byte-level BPE tokenizer on the training chapters of Moby Dick.
 *   npx tsx scripts/bpe/main.ts [--vocab-size 2048] [--max-length 512] --out DIR
 */
import { parseArgs } from 'node:util';
import { joinChapters, splitMobyDick } from '../corpus/mobyDick';
import { writeTokenizerFiles } from './files';
import { SPECIAL_TOKENS } from './hfFiles';
import { trainBpe } from './train';

const { values } = parseArgs({
  options: {
    'vocab-size': { type: 'string', default: '2048' },
    'max-length': { type: 'string', default: '512' },
    out: { type: 'string' },
  },
});
if (!values.out) {
  console.error('usage: npx tsx scripts/bpe/main.ts [--vocab-size 2048] [--max-length 512] --out DIR');
  process.exit(2);
}
const started = Date.now();
const { train } = splitMobyDick();
const model = trainBpe(
  train.map((c) => c.text),
  { vocabSize: Number(values['vocab-size']), specialTokens: SPECIAL_TOKENS },
);
const paths = writeTokenizerFiles(values.out, model, Number(values['max-length']));
console.log(
  `trained ${model.tokens.length} tokens (${model.merges.length} merges) on ` +
    `${joinChapters(train).length.toLocaleString('en-US')} characters in ${Date.now() - started} ms`,
);
for (const p of paths) console.log(`wrote ${p}`);
