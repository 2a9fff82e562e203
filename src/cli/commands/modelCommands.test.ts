/**
 * `info`, `generate` and `eval` end to end: a tiny checkpoint written by the project's own
 * writer into a temp directory, the CLI spawned as a user runs it, its JSON checked against
 * in-process generation and the float64 reference (testing/referenceLlama.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, writeCheckpoint } from '../../core/io/checkpoint';
import { nodeDirectorySource, writeFilesToDirectory } from '../../core/io/nodeFiles';
import { countParameters } from '../../core/model/config';
import { generate } from '../../core/model/generate';
import { disposeWeights, initWeights } from '../../core/model/init';
import { argmax } from '../../core/model/sampling';
import { referenceForward } from '../../core/model/testing/referenceLlama';
import { tinyConfig, toRefWeights } from '../../core/model/testing/tinyModels';
import { tinyTokenizerConfig, tinyTokenizerJson, tinyVocab } from '../../core/model/testing/tinyTokenizer';
import { encodeS2ftAdapter } from '../../core/s2ft/adapter';
import { fuseAdapters } from '../../core/s2ft/fuse';
import { randomAdapter } from '../../core/s2ft/testing/randomAdapter';
import type { LlamaWeights } from '../../core/model/types';

const ROOT = path.resolve(__dirname, '../../..');
const config = tinyConfig({
  modelType: 'qwen2',
  attentionBias: true,
  tieWordEmbeddings: true,
  ropeTheta: 1e6,
  eosTokenIds: [],
});
let dir: string;
let withTokenizer: string;
let idsOnly: string;
let weights: LlamaWeights;

function cli(...args: string[]): { code: number; stdout: string; stderr: string; json: () => Record<string, unknown> } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return {
    code: r.status ?? -1,
    stdout: r.stdout,
    stderr: r.stderr,
    json: () => JSON.parse(r.stdout) as Record<string, unknown>,
  };
}

/** Greedy continuation by the float64 reference. */
function referenceGreedy(ref: ReturnType<typeof toRefWeights>, prompt: number[], n: number): number[] {
  const seq = [...prompt];
  const V = config.vocabSize;
  for (let i = 0; i < n; i++) {
    const logits = referenceForward(config, ref, [seq]);
    seq.push(argmax(logits.subarray((seq.length - 1) * V, seq.length * V)));
  }
  return seq.slice(prompt.length);
}

/** Mean next-token cross-entropy over all predicted positions of all rows, in float64. */
function referenceLoss(ref: ReturnType<typeof toRefWeights>, rows: number[][]): { loss: number; tokens: number } {
  const V = config.vocabSize;
  let sum = 0;
  let tokens = 0;
  for (const row of rows) {
    const logits = referenceForward(config, ref, [row]);
    for (let t = 0; t + 1 < row.length; t++) {
      const z = logits.subarray(t * V, (t + 1) * V);
      const max = Math.max(...z);
      const lse = max + Math.log(z.reduce((s, x) => s + Math.exp(x - max), 0));
      sum += lse - z[row[t + 1]];
      tokens++;
    }
  }
  return { loss: sum / tokens, tokens };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(path.join(tmpdir(), 'model-cli-'));
  weights = initWeights(config, 42, { std: 0.3 });
  withTokenizer = path.join(dir, 'tiny-qwen');
  idsOnly = path.join(dir, 'tiny-ids-only');
  await writeFilesToDirectory(
    withTokenizer,
    await writeCheckpoint(config, weights, {
      files: { 'tokenizer.json': tinyTokenizerJson(), 'tokenizer_config.json': tinyTokenizerConfig() },
    }),
  );
  await writeFilesToDirectory(idsOnly, await writeCheckpoint(config, weights));
});

afterAll(() => {
  disposeWeights(weights);
  rmSync(dir, { recursive: true, force: true });
});

describe('info', () => {
  it('describes the checkpoint as JSON', async () => {
    const r = cli('info', '--model', withTokenizer, '--json');
    expect(r.code, r.stderr).toBe(0);
    const info = r.json();
    const loaded = await loadCheckpoint(await nodeDirectorySource(withTokenizer));
    disposeWeights(loaded.weights);
    expect(info).toMatchObject({
      model: 'tiny-qwen',
      model_type: 'qwen2',
      num_layers: 2,
      num_heads: 4,
      num_kv_heads: 2,
      head_dim: 8,
      parameters: countParameters(config),
      fp32_bytes: 4 * countParameters(config),
      tokenizer: true,
      chat_template: true,
      fingerprint: loaded.fingerprint,
      tie_word_embeddings: true,
      attention_bias: true,
    });
  });

  it('--verbose names the backend on stderr: wasm with SIMD', () => {
    const r = cli('info', '--model', withTokenizer, '--json', '--verbose');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^backend: tfjs wasm \(SIMD, 1 thread\)$/m);
    expect(r.json().model).toBe('tiny-qwen');
  });
});

describe('generate', () => {
  it('--prompt-ids: greedy ids equal in-process generation and the float64 reference; exact prompt ids', async () => {
    const prompt = [3, 17, 42, 8];
    const r = cli(
      'generate',
      '--model',
      withTokenizer,
      '--prompt-ids',
      prompt.join(','),
      '--max-new-tokens',
      '8',
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const out = r.json();
    const inProcess = await generate({ config, weights }, prompt, { maxNewTokens: 8 });
    const reference = referenceGreedy(toRefWeights(weights), prompt, 8);
    console.log(`CLI greedy:       ${(out.ids as number[]).join(' ')}\nfloat64 reference: ${reference.join(' ')}`);
    expect(Object.keys(out).sort()).toEqual(['ids', 'prompt_ids', 'text']);
    expect(out.prompt_ids).toEqual(prompt);
    expect(out.ids).toEqual(inProcess.ids);
    expect(out.ids).toEqual(reference);
    expect(typeof out.text).toBe('string');
  });

  it('--prompt TEXT is encoded with the tokenizer defaults (BOS from the post-processor)', () => {
    const r = cli(
      'generate',
      '--model',
      withTokenizer,
      '--prompt',
      'hello world',
      '--max-new-tokens',
      '3',
      '--temperature',
      '0.7',
      '--top-k',
      '5',
      '--seed',
      '4',
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().prompt_ids).toEqual([0, tinyVocab.hello, tinyVocab['Ġworld']]);
    expect(r.json().ids).toHaveLength(3);
  });

  it('without tokenizer files: token ids still work, text is null, and it says so', () => {
    const r = cli('generate', '--model', idsOnly, '--prompt-ids', '5,6,7', '--max-new-tokens', '2', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().text).toBeNull();
    expect(r.json().ids).toHaveLength(2);
    expect(r.stderr).toMatch(/no tokenizer\.json/);
    const text = cli('generate', '--model', idsOnly, '--prompt', 'hello');
    expect(text.code).toBe(2);
    expect(text.stderr.trim().split('\n'), text.stderr).toHaveLength(1);
    expect(text.stderr).toMatch(/^error: .*tokenizer\.json.*--prompt-ids/);
  });

  it('--adapter fuses a native S²FT adapter (same tokens as generating with fused weights in-process)', async () => {
    const loaded = await loadCheckpoint(await nodeDirectorySource(withTokenizer));
    disposeWeights(loaded.weights);
    const adapter = randomAdapter(
      config,
      {
        layers: [
          { heads: [1], channels: [0, 5] },
          { heads: [], channels: [3] },
        ],
      },
      5,
      'tiny-qwen',
      loaded.fingerprint,
    );
    for (const b of adapter.blocks) b.delta = b.delta.map((v) => v * 20); // large enough to change the tokens
    const file = path.join(dir, 'a.safetensors');
    writeFileSync(file, encodeS2ftAdapter(adapter.blocks, adapter.info));
    const prompt = [3, 17, 42, 8];
    const r = cli(
      'generate',
      '--model',
      withTokenizer,
      '--adapter',
      file,
      '--prompt-ids',
      prompt.join(','),
      '--max-new-tokens',
      '8',
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const fused = fuseAdapters(weights, [{ adapter, weight: 1 }]);
    const expected = await generate({ config, weights: fused }, prompt, { maxNewTokens: 8 });
    const base = await generate({ config, weights }, prompt, { maxNewTokens: 8 });
    expect(r.json().ids).toEqual(expected.ids);
    expect(expected.ids).not.toEqual(base.ids);
    const wrong = randomAdapter(
      config,
      {
        layers: [
          { heads: [1], channels: [] },
          { heads: [], channels: [] },
        ],
      },
      5,
      'other',
      'ffff0000ffff0000',
    );
    writeFileSync(file, encodeS2ftAdapter(wrong.blocks, wrong.info));
    const refused = cli('generate', '--model', withTokenizer, '--adapter', file, '--prompt-ids', '1', '--json');
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split('\n'), refused.stderr).toHaveLength(1);
    expect(refused.stderr).toMatch(/^error: .*a\.safetensors: adapter was made for another base model/);
  });
});

describe('eval', () => {
  const rows = [
    [3, 17, 42, 8, 9, 10, 11],
    [5, 6],
    [40, 41, 42, 43, 44],
  ];

  it('JSONL input_ids: loss equals the float64 reference mean over all predicted positions', () => {
    const data = path.join(dir, 'ids.jsonl');
    writeFileSync(data, rows.map((r) => JSON.stringify({ input_ids: r })).join('\n') + '\n');
    const r = cli('eval', '--model', idsOnly, '--data', data, '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = r.json() as { loss: number; perplexity: number; tokens: number };
    const ref = referenceLoss(toRefWeights(weights), rows);
    const diff = Math.abs(out.loss - ref.loss);
    console.log(`eval loss ${out.loss} vs float64 reference ${ref.loss}: abs diff ${diff.toExponential(2)} (tol 1e-4)`);
    expect(diff).toBeLessThanOrEqual(1e-4);
    expect(out.tokens).toBe(ref.tokens);
    expect(out.perplexity).toBeCloseTo(Math.exp(out.loss), 9);

    const cut = cli('eval', '--model', idsOnly, '--data', data, '--seq-len', '3', '--json');
    const refCut = referenceLoss(
      toRefWeights(weights),
      rows.map((row) => row.slice(0, 4)),
    );
    expect(cut.json().tokens).toBe(refCut.tokens);
    expect(Math.abs((cut.json().loss as number) - refCut.loss)).toBeLessThanOrEqual(1e-4);
  });

  it('.txt is tokenized and packed into windows', () => {
    const data = path.join(dir, 'text.txt');
    writeFileSync(data, 'hello world hello world hello\nworld hello');
    const r = cli('eval', '--model', withTokenizer, '--data', data, '--seq-len', '4', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = r.json() as { loss: number; tokens: number };
    expect(out.tokens).toBeGreaterThan(8);
    expect(Number.isFinite(out.loss)).toBe(true);
  });
});

describe('user errors', () => {
  it('a missing model directory exits 2 with one line on stderr', () => {
    for (const command of ['info', 'generate', 'eval']) {
      const r = cli(
        command,
        '--model',
        path.join(dir, 'nope'),
        '--prompt-ids',
        '1',
        '--data',
        path.join(dir, 'ids.jsonl'),
      );
      expect(r.code).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^error: .*nope/);
    }
  });
});
