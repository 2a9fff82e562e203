/**
 * The command line on qwen3 and gemma3_text checkpoints written here (every distinguishing
 * feature on, testing/tinyFamilies.ts): `info` shows the family's settings, `generate` gives the
 * float64 reference's greedy tokens, `eval` its loss, `train` writes an S²FT adapter that
 * `generate --adapter` applies; a config.json key the studio does not know and a chat template
 * that loops each end with exit 2 and one line naming them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCheckpoint } from '../../core/io/checkpoint';
import { writeFilesToDirectory } from '../../core/io/nodeFiles';
import { disposeWeights } from '../../core/model/init';
import { argmax } from '../../core/model/sampling';
import { referenceForward, type RefWeights } from '../../core/model/testing/referenceLlama';
import { GEMMA3_NEW_LAYOUT, QWEN3_NEW_LAYOUT, randomFamilyModel } from '../../core/model/testing/tinyFamilies';
import { randomIds, toRefWeights } from '../../core/model/testing/tinyModels';
import { tinyTokenizerConfig, tinyTokenizerJson } from '../../core/model/testing/tinyTokenizer';
import type { ModelConfig } from '../../core/model/types';

const ROOT = path.resolve(__dirname, '../../..');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

let tmp: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = mkdtempSync(path.join(tmpdir(), 'cli-families-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * Writes the family's checkpoint (its own config.json layout; a tokenizer when given its config,
 * else token-id work only, so JSONL ids are used as they are) and returns its float64 weights.
 */
async function writeFamily(
  dir: string,
  json: Record<string, unknown>,
  tokenizerConfig: object | null,
): Promise<RefWeights> {
  const model = randomFamilyModel(json, 9);
  const files = tokenizerConfig
    ? { 'tokenizer.json': tinyTokenizerJson(), 'tokenizer_config.json': tokenizerConfig }
    : undefined;
  await writeFilesToDirectory(dir, await writeCheckpoint(model.config, model.weights, { files }));
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(json));
  const ref = toRefWeights(model.weights);
  disposeWeights(model.weights);
  return ref;
}

function referenceGreedy(config: ModelConfig, ref: RefWeights, prompt: number[], n: number): number[] {
  const seq = [...prompt];
  const V = config.vocabSize;
  for (let i = 0; i < n; i++) seq.push(argmax(referenceForward(config, ref, [seq]).subarray((seq.length - 1) * V)));
  return seq.slice(prompt.length);
}

function referenceLoss(config: ModelConfig, ref: RefWeights, rows: number[][]): number {
  const V = config.vocabSize;
  let sum = 0,
    n = 0;
  for (const row of rows) {
    const logits = referenceForward(config, ref, [row]);
    for (let t = 0; t + 1 < row.length; t++) {
      const z = Array.from(logits.subarray(t * V, (t + 1) * V));
      const max = Math.max(...z);
      sum += max + Math.log(z.reduce((s, x) => s + Math.exp(x - max), 0)) - z[row[t + 1]];
      n++;
    }
  }
  return sum / n;
}

describe.each([
  { family: 'qwen3', json: QWEN3_NEW_LAYOUT },
  { family: 'gemma3_text', json: GEMMA3_NEW_LAYOUT },
])('$family through the command line', ({ family, json }) => {
  it('info, generate, eval and train work and agree with the float64 reference', async () => {
    const dir = path.join(tmp, family);
    const ref = await writeFamily(dir, json, null);
    const { parseConfig } = await import('../../core/model/config');
    const config = parseConfig(json);

    const info = cli('info', '--model', dir, '--json');
    expect(info.code, info.stderr).toBe(0);
    expect(info.json()).toMatchObject({ model_type: family, head_dim: 12, tie_word_embeddings: false });
    if (family === 'gemma3_text')
      expect(info.json()).toMatchObject({ sliding_window: 3, query_pre_attn_scalar: 20, final_logit_softcapping: 3 });

    const prompt = [5, 9, 12, 7];
    const gen = cli('generate', '--model', dir, '--prompt-ids', prompt.join(','), '--max-new-tokens', '5', '--json');
    expect(gen.code, gen.stderr).toBe(0);
    const expected = referenceGreedy(config, ref, prompt, 5);
    console.log(`[${family}] cli generate ${gen.json().ids} (float64 reference ${expected})`);
    expect(gen.json().ids).toEqual(expected);

    const rows = randomIds(3, 10, config.vocabSize, 17);
    const data = path.join(tmp, `${family}.jsonl`);
    writeFileSync(data, rows.map((r) => JSON.stringify({ input_ids: r })).join('\n') + '\n');
    const ev = cli('eval', '--model', dir, '--data', data, '--json');
    expect(ev.code, ev.stderr).toBe(0);
    const loss = referenceLoss(config, ref, rows);
    const rel = Math.abs(ev.json().loss - loss) / loss;
    console.log(`[${family}] cli eval loss ${ev.json().loss} vs float64 ${loss} (rel diff ${rel.toExponential(2)})`);
    expect(ev.json().tokens).toBe(27);
    expect(rel).toBeLessThan(1e-5);

    const adapter = path.join(tmp, `${family}.safetensors`);
    const train = cli(
      'train',
      '--model',
      dir,
      '--data',
      data,
      '--out',
      adapter,
      '--strategy',
      'random',
      '--heads-per-layer',
      '1',
      '--channels-per-layer',
      '4',
      '--steps',
      '2',
      '--batch-size',
      '2',
      '--lr',
      '1e-2',
      '--json',
    );
    expect(train.code, train.stderr).toBe(0);
    expect(existsSync(adapter)).toBe(true);
    const adapted = cli(
      'generate',
      '--model',
      dir,
      '--adapter',
      adapter,
      '--prompt-ids',
      '5,9',
      '--max-new-tokens',
      '3',
    );
    expect(adapted.code, adapted.stderr).toBe(0);
  });

  it('refuses an unknown config.json key and stops a looping chat template, exit 2 with one line each', async () => {
    const dir = path.join(tmp, `${family}-hostile`);
    const looping = { ...tinyTokenizerConfig(), chat_template: '{% for i in range(10**9) %}x{% endfor %}' };
    await writeFamily(dir, json, looping);
    const messages = path.join(tmp, 'chat.jsonl');
    writeFileSync(
      messages,
      JSON.stringify({
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'yo' },
        ],
      }) + '\n',
    );
    const ev = cli('eval', '--model', dir, '--data', messages);
    expect(ev.code).toBe(2);
    expect(ev.stderr.trim().split('\n')).toHaveLength(1);
    expect(ev.stderr).toMatch(/tokenizer_config\.json: chat_template was stopped after 0\.5 s/);

    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...json, logit_scale: 0.5 }));
    const info = cli('info', '--model', dir);
    expect(info.code).toBe(2);
    expect(info.stderr.trim().split('\n')).toHaveLength(1);
    expect(info.stderr).toMatch(/config\.json: logit_scale 0\.5 is not supported/);
  });
});
