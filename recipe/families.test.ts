/**
 * The PyTorch recipe computes qwen3 and gemma3_text as the studio does, from the same config.json
 * (the transformers ≥ 5 layout and the older one): its logits equal the studio's within 1e-5
 * relative, and one plain-SGD S²FT step of the exported recipe (train.py, one process) gives the
 * studio's `train` deltas within 1e-5 relative, as recipe.test.ts shows for llama and qwen2.
 * Every distinguishing feature is on (testing/tinyFamilies.ts): untied and tied heads, llama3
 * RoPE in rope_parameters, q/k norms, a sliding window shorter than the sequence with its own
 * RoPE base, both soft-caps, query_pre_attn_scalar ≠ head_dim. Needs python3 with torch.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Flags, parseArgs } from '../src/cli/args';
import { loadCheckpoint, writeCheckpoint } from '../src/core/io/checkpoint';
import { nodeDirectorySource, writeFilesToDirectory } from '../src/core/io/nodeFiles';
import { disposeWeights } from '../src/core/model/init';
import { forward } from '../src/core/model/llama';
import {
  GEMMA3_NEW_LAYOUT,
  GEMMA3_OLD_LAYOUT,
  QWEN3_NEW_LAYOUT,
  randomFamilyModel,
} from '../src/core/model/testing/tinyFamilies';
import { randomIds } from '../src/core/model/testing/tinyModels';
import { decodeS2ftAdapter } from '../src/core/s2ft/adapter';
import { writeSelectionFile } from '../src/core/s2ft/selectionFile';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const python =
  [process.env.PYTHON, 'python3', '/usr/bin/python3']
    .filter((p): p is string => !!p)
    .find((py) => spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) ?? null;
if (!python) console.log('recipe family tests SKIPPED: no python3 with torch (apt-get install -y python3-torch)');

function sh(cmd: string, args: string[], cwd = ROOT): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

async function cli(command: 'export-recipe' | 'train', argv: string[]): Promise<void> {
  const mod = (await import(`../src/cli/commands/${command}.ts`)) as { run: (ctx: unknown) => Promise<unknown> };
  await mod.run({ flags: new Flags(parseArgs(argv, new Set(['json'])).flags), json: true, log: () => {} });
}

/** max |a − b| / max |b| */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let num = 0,
    den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  expect(den).toBeGreaterThan(0);
  return num / den;
}

/** The recipe's logits for `ids` ([B][T]) of the checkpoint in `dir`, flattened [B·T·V]. */
const PY_FORWARD = `
import json, sys, torch
sys.path.insert(0, "recipe/template")
from model import load_model
model = load_model(sys.argv[1])
ids = torch.tensor(json.loads(sys.argv[2]), dtype=torch.int64)
with torch.no_grad():
    print(json.dumps(model(ids).flatten().tolist()))
`;

const CASES = [
  { name: 'qwen3 (transformers 5 layout, llama3 RoPE, untied)', json: QWEN3_NEW_LAYOUT },
  { name: 'gemma3_text (transformers 5 layout, window 3, soft-caps, untied)', json: GEMMA3_NEW_LAYOUT },
  { name: 'gemma3_text (older layout, tied)', json: GEMMA3_OLD_LAYOUT },
];

describe.skipIf(!python)('PyTorch recipe on qwen3 and gemma3_text', () => {
  const py = python as string;
  let tmp: string;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    tmp = mkdtempSync(path.join(tmpdir(), 'recipe-families-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it.each(CASES)('$name: same logits and the same one-step SGD deltas as the studio', async ({ name, json }) => {
    // The studio's writer, then the case's own config.json so the recipe reads that layout.
    const dir = path.join(tmp, name.replace(/\W+/g, '-'));
    const model = randomFamilyModel(json, 4);
    await writeFilesToDirectory(dir, await writeCheckpoint(model.config, model.weights));
    disposeWeights(model.weights);
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify(json));

    const loaded = await loadCheckpoint(await nodeDirectorySource(dir));
    const ids = randomIds(2, 9, loaded.config.vocabSize, 6);
    const studio = tf.tidy(() => forward(loaded, tf.tensor2d(ids, [2, 9], 'int32')).dataSync());
    disposeWeights(loaded.weights);
    const recipe = JSON.parse(sh(py, ['-c', PY_FORWARD, dir, JSON.stringify(ids)])) as number[];
    const logitsDiff = relDiff(recipe, studio);

    const data = path.join(tmp, 'sgd.jsonl');
    writeFileSync(
      data,
      randomIds(4, 9, loaded.config.vocabSize, 33)
        .map((r) => JSON.stringify({ input_ids: r }))
        .join('\n') + '\n',
    );
    const selection = path.join(tmp, 'selection.json');
    const layers = Array.from({ length: loaded.config.numLayers }, (_, l) =>
      l === 0 ? { heads: [0, 3], channels: [1, 20, 33], vHeads: [1], upChannels: [5] } : { heads: [2], channels: [47] },
    );
    writeFileSync(selection, writeSelectionFile({ layers }));
    const flags = ['--model', dir, '--data', data, '--method', 's2ft', '--selection', selection, '--optimizer', 'sgd'];
    flags.push('--lr', '0.5', '--steps', '1', '--grad-clip', '0', '--batch-size', '4');
    const studioOut = path.join(tmp, 'studio.safetensors');
    await cli('train', [...flags, '--out', studioOut]);
    const recipeDir = path.join(tmp, `${path.basename(dir)}-recipe`);
    await cli('export-recipe', [...flags, '--out', recipeDir]);
    sh(py, ['train.py', '--out', 'one.safetensors'], recipeDir);
    const read = (file: string) => decodeS2ftAdapter(new Uint8Array(readFileSync(file)), file);
    const [ours, theirs] = [read(path.join(recipeDir, 'one.safetensors')), read(studioOut)];
    expect(ours.blocks.map((b) => `${b.layer}.${b.module}`)).toEqual(
      theirs.blocks.map((b) => `${b.layer}.${b.module}`),
    );
    const deltaDiff = relDiff(
      ours.blocks.flatMap((b) => Array.from(b.delta)),
      theirs.blocks.flatMap((b) => Array.from(b.delta)),
    );
    console.log(
      `[${name}] recipe vs studio: logits max rel diff ${logitsDiff.toExponential(2)}, ` +
        `one SGD step deltas ${deltaDiff.toExponential(2)} (tol 1e-5)`,
    );
    expect(logitsDiff).toBeLessThan(1e-5);
    expect(deltaDiff).toBeLessThan(1e-5);
  });
});
