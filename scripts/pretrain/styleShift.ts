/**
 * The model card's fine-tuning check: S²FT on the style corpus (State of the Union addresses) for
 * 100 steps, and that corpus's validation loss before and after. It runs the studio's own CLI
 * commands, so a user reproduces the numbers by pasting the commands the card lists:
 *   eval (base) → train --method s2ft → eval --adapter
 * then stores the numbers in DIR/training.json and re-renders DIR/README.md.
 *   npx tsx scripts/pretrain/styleShift.ts [--model DIR] [--steps 100] [--adapter-out FILE]
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderModelCard } from './card';
import { FULL_RECIPE } from './recipe';
import { readReport, writeReport } from './report';

const TRAIN = 'public/datasets/sotu-style/train.txt';
const VALIDATION = 'public/datasets/sotu-style/validation.txt';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: join('public/models', FULL_RECIPE.name) },
    steps: { type: 'string', default: '100' },
    'adapter-out': { type: 'string', default: '/tmp/sotu-style-s2ft.safetensors' },
  },
});
const model = values.model;
const adapter = values['adapter-out'];
const report = readReport(model);
const seqLen = String(report.recipe.seqLen);

/** One CLI command: its `npm run cli -- …` form for the card, and its --json result. */
function cli(args: string[]): { command: string; result: Record<string, unknown> } {
  const command = `npm run cli -- ${args.join(' ')}`;
  console.log(`$ ${command}`);
  const stdout = execFileSync('npx', ['tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const result = JSON.parse(stdout.trim().split('\n').pop() ?? '') as Record<string, unknown>;
  console.log(JSON.stringify(result));
  return { command, result };
}

const evalArgs = ['eval', '--model', model, '--data', VALIDATION, '--seq-len', seqLen, '--json'];
const before = cli(evalArgs);
const train = cli([
  'train',
  '--model',
  model,
  '--data',
  TRAIN,
  '--method',
  's2ft',
  '--steps',
  values.steps,
  '--lr',
  '1e-3',
  '--batch-size',
  '8',
  '--seq-len',
  seqLen,
  '--seed',
  '0',
  '--out',
  adapter,
  '--json',
]);
const after = cli([...evalArgs.slice(0, 3), '--adapter', adapter, ...evalArgs.slice(3)]);

report.styleShift = {
  command: [before.command, train.command, after.command].join('\n'),
  dataset: TRAIN,
  method: 'S²FT (random selection matching LoRA rank 8, AdamW lr 1e-3, batch 8)',
  steps: Number(values.steps),
  before: before.result.loss as number,
  after: after.result.loss as number,
};
writeReport(model, report);
writeFileSync(join(model, 'README.md'), renderModelCard(report));
console.log(
  `style validation loss ${report.styleShift.before.toFixed(4)} → ${report.styleShift.after.toFixed(4)}; wrote ${model}/README.md`,
);
