import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Flags, parseArgs } from '../../src/cli/lib/args';
import { run as evalCommand } from '../../src/cli/commands/eval';
import { loadCheckpoint, TOKENIZER_FILE } from '../../src/core/io/checkpoint';
import { nodeDirectorySource } from '../../src/core/io/nodeFiles';
import { generate } from '../../src/core/model/generate';
import { disposeWeights, initWeights } from '../../src/core/model/init';
import { forward } from '../../src/core/model/llama';
import { loadTokenizer, type TextTokenizer } from '../../src/core/model/tokenizer';
import type { LlamaModel } from '../../src/core/model/types';
import { splitMobyDick } from '../corpus/mobyDick';
import { heldOutLoss } from './heldOut';
import { HELD_OUT_FILE, pretrain, type PretrainResult } from './pretrain';
import { QUALITY_FLOOR } from './card';
import { FULL_RECIPE, modelConfig, QUICK_RECIPE } from './recipe';
import { readReport } from './report';

const SHIPPED_DIR = join('public/models', FULL_RECIPE.name);
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pretrain-test-'));
  dirs.push(dir);
  return dir;
}

function quickRun(seed: number, steps: number): Promise<PretrainResult> {
  return pretrain({ recipe: { ...QUICK_RECIPE, steps, warmup: 1 }, seed, out: tempDir(), command: 'test' });
}

/** A checkpoint directory through the path users take: loadCheckpoint over the Node dir source, then loadTokenizer. */
async function loadAsUser(dir: string): Promise<{ model: LlamaModel; tokenizer: TextTokenizer }> {
  const loaded = await loadCheckpoint(await nodeDirectorySource(dir));
  if (!loaded.tokenizerJson) throw new Error(`${dir} has no ${TOKENIZER_FILE}`);
  return {
    model: { config: loaded.config, weights: loaded.weights },
    tokenizer: loadTokenizer(loaded.tokenizerJson, loaded.tokenizerConfig),
  };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('pretrain --quick', () => {
  let quick: PretrainResult;
  let dir: string;

  beforeAll(async () => {
    quick = await quickRun(7, 4);
    dir = dirs[dirs.length - 1];
  });

  it('writes a HF llama directory with grouped-query attention that loads and generates through the user path', async () => {
    const hf = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(hf.model_type).toBe('llama');
    expect(hf.architectures).toEqual(['LlamaForCausalLM']);
    expect(hf.num_hidden_layers).toBeGreaterThanOrEqual(4);
    expect(hf.num_key_value_heads as number).toBeLessThan(hf.num_attention_heads as number);
    for (const f of ['model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'training.json'])
      expect(existsSync(join(dir, f))).toBe(true);

    const { model, tokenizer } = await loadAsUser(dir);
    expect(model.config).toEqual(modelConfig(quick.report.recipe));
    const prompt = tokenizer.encode('The whale');
    const out = await generate(model, prompt, { maxNewTokens: 8, temperature: 0 });
    const text = tokenizer.decode(out.ids, { skipSpecialTokens: true });
    console.log(`quick model, greedy after "The whale": ${JSON.stringify(text)}`);
    expect(out.ids.length).toBeGreaterThan(0);
    expect(out.ids.every((id) => id >= 0 && id < model.config.vocabSize)).toBe(true);
    disposeWeights(model.weights);
  });

  it('records the held-out loss that `cli eval` computes on the same text and window', async () => {
    const slice = readFileSync(HELD_OUT_FILE, 'utf8').slice(0, QUICK_RECIPE.heldOutChars ?? undefined);
    const data = join(tempDir(), 'moby-dick-heldout.txt');
    writeFileSync(data, slice);
    const argv = ['eval', '--model', dir, '--data', data, '--seq-len', String(QUICK_RECIPE.seqLen), '--json'];
    const flags = new Flags(parseArgs(argv, new Set(['json'])).flags);
    const result = await evalCommand({ flags, json: true, log: () => undefined });
    const diff = Math.abs((result.loss as number) - quick.report.heldOut.loss);
    console.log(
      `held-out loss: training.json ${quick.report.heldOut.loss}, cli eval ${String(result.loss)}; |diff| ${diff} (tolerance 1e-5)`,
    );
    expect(result.tokens).toBe(quick.report.heldOut.tokens);
    expect(diff).toBeLessThan(1e-5);
  });

  it('computes the held-out loss as a float64 reference does (every token after the first predicted once)', async () => {
    const { tokenizer } = await loadAsUser(dir);
    const config = modelConfig(QUICK_RECIPE);
    const model: LlamaModel = { config, weights: initWeights(config, 3, { std: 0.3 }) };
    const text = readFileSync(HELD_OUT_FILE, 'utf8').slice(0, 300);
    const T = 16;
    const got = heldOutLoss(model, tokenizer, text, 'held.txt', T);

    const ids = tokenizer.encode(text);
    let nll = 0;
    let count = 0;
    for (let start = 0; start + 1 < ids.length; start += T) {
      const window = ids.slice(start, start + T + 1); // inputs and their next tokens
      const logits = tf.tidy(() => forward(model, tf.tensor2d([window.slice(0, -1)], undefined, 'int32')));
      const rows = logits.arraySync()[0]; // [T', V]
      logits.dispose();
      rows.forEach((row, t) => {
        const max = Math.max(...row);
        const logSum = Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0)) + max;
        nll += logSum - row[window[t + 1]];
        count++;
      });
    }
    const diff = Math.abs(got.loss - nll / count);
    console.log(`heldOutLoss ${got.loss} vs float64 reference ${nll / count}: |diff| ${diff} (tolerance 1e-5)`);
    expect(got.tokens).toBe(ids.length - 1);
    expect(count).toBe(ids.length - 1);
    expect(diff).toBeLessThan(1e-5);
    disposeWeights(model.weights);
  });
});

describe('determinism', () => {
  it('the same seed gives the same losses, another seed other losses', async () => {
    const a = await quickRun(11, 3);
    const b = await quickRun(11, 3);
    const c = await quickRun(12, 3);
    const diff = Math.max(...a.losses.map((l, i) => Math.abs(l - b.losses[i])));
    console.log(
      `seed 11 twice: losses ${a.losses.join(', ')} / ${b.losses.join(', ')}; max |diff| ${diff} (tolerance 0); seed 12: ${c.losses.join(', ')}`,
    );
    expect(a.losses).toHaveLength(3);
    expect(diff).toBe(0);
    expect(c.losses).not.toEqual(a.losses);
  });
});

describe(`shipped model ${SHIPPED_DIR}`, () => {
  it('is at most 20 MB, meets the quality floor against the bigram, and its card states the measured numbers', () => {
    const bytes = readdirSync(SHIPPED_DIR).reduce((n, f) => n + statSync(join(SHIPPED_DIR, f)).size, 0);
    const report = readReport(SHIPPED_DIR);
    const card = readFileSync(join(SHIPPED_DIR, 'README.md'), 'utf8');
    console.log(`${SHIPPED_DIR}: ${bytes} bytes; held-out ${report.heldOut.loss} vs bigram ${report.bigram.loss}`);
    expect(bytes).toBeLessThanOrEqual(20e6);
    const improvement = 1 - report.heldOut.loss / report.bigram.loss;
    console.log(`held-out loss ${(100 * improvement).toFixed(1)}% below the bigram's (floor ${100 * QUALITY_FLOOR}%)`);
    expect(improvement).toBeGreaterThanOrEqual(QUALITY_FLOOR);
    expect(card).toContain(report.heldOut.loss.toFixed(4));
    expect(card).toContain(report.bigram.loss.toFixed(4));
  });

  it('`cli eval` on the held-out chapters reproduces the loss its card states', async () => {
    const report = readReport(SHIPPED_DIR);
    const argv = [
      'eval',
      '--model',
      SHIPPED_DIR,
      '--data',
      HELD_OUT_FILE,
      '--seq-len',
      String(report.heldOut.seqLen),
      '--json',
    ];
    const flags = new Flags(parseArgs(argv, new Set(['json'])).flags);
    const result = await evalCommand({ flags, json: true, log: () => undefined });
    const diff = Math.abs((result.loss as number) - report.heldOut.loss);
    console.log(
      `shipped held-out loss: card ${report.heldOut.loss}, cli eval ${String(result.loss)}; |diff| ${diff} (tolerance 1e-4)`,
    );
    expect(result.tokens).toBe(report.heldOut.tokens);
    expect(diff).toBeLessThan(1e-4);
  }, 400_000); // 43,786 tokens on the cpu backend: ~1–3 minutes

  it('loads through the user path and writes English words of the book', async () => {
    const { model, tokenizer } = await loadAsUser(SHIPPED_DIR);
    const vocabulary = new Set(splitMobyDick().train.flatMap((c) => c.text.toLowerCase().match(/[a-z]+/g) ?? []));
    const out = await generate(model, tokenizer.encode('The whale'), { maxNewTokens: 64, temperature: 0 });
    const text = tokenizer.decode(out.ids, { skipSpecialTokens: true });
    const words = text.toLowerCase().match(/[a-z]+/g) ?? [];
    const known = words.filter((w) => vocabulary.has(w));
    console.log(`greedy after "The whale": ${JSON.stringify(text)}; ${known.length}/${words.length} words in the book`);
    expect(text.length).toBeGreaterThanOrEqual(100);
    expect(words.length).toBeGreaterThanOrEqual(10);
    expect(known.length / words.length).toBeGreaterThanOrEqual(0.9);
    disposeWeights(model.weights);
  });
});
