/**
 * Issue 18 "Must show" 4 and 5: a person follows recipe/README.md from the studio's export to the adapter
 * back in the studio, and the test runs the README's own commands: every fenced block marked
 * `bash test:studio` runs in this checkout, every `bash test:training` block on a "fresh machine" (a new
 * directory holding copies of the run folder and the base model, a clean environment with only PATH,
 * HOME and the README's names, and Debian's torch as its `python3` and `torchrun`). The last studio block
 * evaluates the base model with and without the trained adapter through the CLI's own loader (eval
 * --adapter, which checks the fingerprint); the adapter must lower the held-out loss.
 *
 * Also: the exported folder's README carries the same training and multi-machine commands, and the
 * README's family list is model.py's SUPPORTED_TYPES.
 */
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { python, pythonBin, readAdapter, ROOT, runBlock, sh, testedBlocks } from './testing/harness';

const README = path.join(ROOT, 'recipe/README.md');
const TEMPLATE_README = path.join(ROOT, 'recipe/template/README.md');
const TOY = path.join(ROOT, 'public/datasets/toy-tasks');

describe('recipe/README.md', () => {
  it('has the blocks its tests run: export and eval in the studio, two training commands, one per machine', () => {
    expect(testedBlocks(README, 'studio')).toHaveLength(2);
    expect(testedBlocks(README, 'training')).toHaveLength(2);
    expect(testedBlocks(README, 'node')).toHaveLength(1);
  });

  it('the exported README carries the same training and multi-machine commands', () => {
    const exported = readFileSync(TEMPLATE_README, 'utf8');
    for (const block of [...testedBlocks(README, 'training'), ...testedBlocks(README, 'node')])
      expect(exported).toContain('```bash\n' + block + '```');
  });
});

describe.skipIf(!python)('recipe/README.md, followed', () => {
  let tmp: string;

  beforeAll(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'recipe-walkthrough-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('lists exactly the families model.py trains', () => {
    const text = readFileSync(README, 'utf8');
    const section = text.slice(text.indexOf('<!-- families'), text.indexOf('<!-- /families -->'));
    const listed = [...section.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
    const supported = JSON.parse(
      sh(
        python as string,
        ['-c', 'import json, model; print(json.dumps(model.SUPPORTED_TYPES))'],
        path.dirname(TEMPLATE_README),
      ),
    ) as string[];
    console.log(`README families: ${listed.join(', ')}; model.py SUPPORTED_TYPES: ${supported.join(', ')}`);
    expect(listed).toEqual(supported);
  });

  it('export → a fresh machine trains with python3 and torchrun → the adapter evaluates back in the studio', () => {
    const studio = path.join(tmp, 'studio');
    const box = path.join(tmp, 'gpu-box');
    mkdirSync(studio);
    const rows = (file: string, n: number) => {
      const out = path.join(studio, file);
      const lines = readFileSync(path.join(TOY, file), 'utf8').split('\n');
      writeFileSync(out, lines.slice(0, n).join('\n') + '\n');
      return out;
    };
    // Small slices of the bundled data keep the studio's CPU eval short; the commands are the README's.
    const names = {
      DATA: rows('train.jsonl', 40),
      EVAL_DATA: rows('test.jsonl', 8),
      RUN: path.join(studio, 's2ft-run'),
    };
    const [exportBlock, evalBlock] = testedBlocks(README, 'studio');
    console.log(runBlock(exportBlock, ROOT, names));

    // Step 2, as scp would: the run folder and the base model onto the training machine.
    const run = path.join(box, 's2ft-run');
    const base = path.join(box, 'moby-llama-800k');
    cpSync(names.RUN, run, { recursive: true });
    cpSync(path.join(ROOT, 'public/models/moby-llama-800k'), base, { recursive: true });
    const fresh = {
      PATH: `${pythonBin(path.join(tmp, 'bin'))}:/usr/bin:/bin`,
      HOME: box,
      BASE: base,
      GPUS: '2',
      OMP_NUM_THREADS: '1',
    };
    const [oneProcess, oneMachine] = testedBlocks(README, 'training');
    const log1 = runBlock(oneProcess, run, fresh, true);
    expect(log1).toContain(`s2ft: ${base} (llama, float32, cpu)`);
    expect(log1).toMatch(/on 1 process\(es\)/);
    const log2 = runBlock(oneMachine, run, fresh, true);
    expect(log2).toMatch(/on 2 process\(es\)/);
    console.log(`fresh machine, python3:\n${log1}\nfresh machine, torchrun:\n${log2}`);
    const adapter = readAdapter(path.join(run, 'adapter.safetensors'));
    expect(adapter.info.training.processes).toBe(2);

    // Step 4, as scp would: the adapter back into the run folder of the studio's machine.
    copyFileSync(path.join(run, 'adapter.safetensors'), path.join(names.RUN, 'adapter.safetensors'));
    const out = runBlock(evalBlock, ROOT, names);
    console.log(out);
    const losses = [...out.matchAll(/^loss ([\d.]+), perplexity/gm)].map((m) => Number(m[1]));
    expect(losses).toHaveLength(2);
    const [baseLoss, adapterLoss] = losses;
    console.log(`held-out loss: base ${baseLoss}, with the recipe's adapter ${adapterLoss}`);
    expect(adapterLoss).toBeLessThan(baseLoss);
  }, 400_000);
});
