/**
 * Pretrains the studio's embedded model (see pretrain.ts) and writes its model card.
 *   npm run pretrain -- [--quick] [--out DIR] [--steps N] [--seed S] [--backend wasm|cpu]
 *   npm run pretrain -- --card-only --out DIR      re-render README.md from DIR/training.json
 */
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderModelCard } from './card';
import { pretrain } from './pretrain';
import { FULL_RECIPE, QUICK_RECIPE } from './recipe';
import { readReport } from './report';
import { initNodeBackend } from '../../src/cli/lib/backend';

const USAGE =
  'usage: npm run pretrain -- [--quick] [--out DIR] [--steps N] [--seed S] [--backend wasm|cpu] [--card-only]';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    steps: { type: 'string' },
    seed: { type: 'string', default: '1234' },
    backend: { type: 'string', default: 'wasm' },
    'card-only': { type: 'boolean', default: false },
  },
});

function positiveInteger(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${flag} must be a non-negative integer, got "${text}"\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

const base = values.quick ? QUICK_RECIPE : FULL_RECIPE;
const steps = values.steps === undefined ? base.steps : positiveInteger('steps', values.steps);
// A shorter run keeps its warm-up within the first tenth of the updates.
const recipe = { ...base, steps, warmup: Math.min(base.warmup, Math.floor(steps / 10)) };
const out = values.out ?? join('public/models', recipe.name);

if (values['card-only']) {
  writeFileSync(join(out, 'README.md'), renderModelCard(readReport(out)));
  console.log(`wrote ${join(out, 'README.md')}`);
} else {
  if (values.backend === 'wasm') await initNodeBackend();
  else if (values.backend === 'cpu') await tf.setBackend('cpu');
  else {
    console.error(`--backend must be wasm or cpu, got "${values.backend}"\n${USAGE}`);
    process.exit(2);
  }
  const seed = positiveInteger('seed', values.seed);
  const flags = [
    values.quick ? ' --quick' : '',
    values.steps !== undefined ? ` --steps ${recipe.steps}` : '',
    ` --seed ${seed}`,
    values.backend !== 'wasm' ? ` --backend ${values.backend}` : '',
    values.out ? ` --out ${out}` : '',
  ].join('');
  const { report } = await pretrain({ recipe, seed, out, command: `npm run pretrain --${flags}`, log: console.log });
  writeFileSync(join(out, 'README.md'), renderModelCard(report));
  console.log(
    `wrote ${out} (held-out ${report.heldOut.loss.toFixed(4)} vs bigram ${report.bigram.loss.toFixed(4)}: ` +
      `${(100 * report.improvementOverBigram).toFixed(1)}% lower)`,
  );
}
