/**
 * Writes the studio's datasets, their cards and index.json.
 *   npx tsx scripts/datasets/main.ts [--out public/datasets] [--seed 1851]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildDatasets, DEFAULT_SEED } from './build';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'public/datasets' },
    seed: { type: 'string', default: String(DEFAULT_SEED) },
  },
});
const { files } = buildDatasets(Number(values.seed));
let total = 0;
for (const [path, text] of files) {
  const target = join(values.out, path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, text);
  const bytes = Buffer.byteLength(text, 'utf8');
  total += bytes;
  console.log(`${bytes.toLocaleString('en-US').padStart(10)}  ${target}`);
}
console.log(`${total.toLocaleString('en-US').padStart(10)}  total`);
