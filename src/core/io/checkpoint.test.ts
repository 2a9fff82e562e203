import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../errors';
import { toHfConfig } from '../model/config';
import { disposeWeights, initWeights } from '../model/init';
import { tinyConfig } from '../model/testing/tinyModels';
import type { LlamaWeights, ModelConfig } from '../model/types';
import { type LoadProgress, loadCheckpoint, writeCheckpoint } from './checkpoint';
import { namedWeights } from './checkpointLayout';
import { type FileSource, blobSource, memorySource, urlSource } from './fileSource';
import { fingerprintModel } from './fingerprint';
import { f16BitsToF32, f32ToBf16Bits, f32ToF16Bits, bf16BitsToF32 } from './float16';
import { nodeDirectorySource, writeFilesToDirectory } from './nodeFiles';
import { parseSafetensors, writeSafetensors, type TensorEntry } from './safetensors';

const llama = tinyConfig({
  vocabSize: 50,
  hiddenSize: 16,
  intermediateSize: 24,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 4,
});
const qwen = tinyConfig({
  modelType: 'qwen2',
  vocabSize: 50,
  hiddenSize: 16,
  intermediateSize: 24,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 4,
  tieWordEmbeddings: true,
  attentionBias: true,
});
const tokenizerJson = { version: '1.0', model: { type: 'BPE', vocab: {} } };

let base: LlamaWeights;
let tied: LlamaWeights;
let files: Map<string, Uint8Array>;

beforeAll(async () => {
  await tf.setBackend('cpu');
  base = initWeights(llama, 1);
  tied = initWeights(qwen, 2);
  files = await writeCheckpoint(llama, base);
});
afterAll(() => {
  disposeWeights(base);
  disposeWeights(tied);
});

/** Max |a − b| over every named tensor of two weight sets (embedding shards concatenated). */
function maxDiff(config: ModelConfig, a: LlamaWeights, b: LlamaWeights): number {
  const na = namedWeights(config, a);
  const nb = namedWeights(config, b);
  expect([...na.keys()]).toEqual([...nb.keys()]);
  let max = 0;
  for (const [name, pieces] of na) {
    const x = pieces.flatMap((t) => Array.from(t.dataSync()));
    const y = nb.get(name)!.flatMap((t) => Array.from(t.dataSync()));
    expect(y.length).toBe(x.length);
    for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - y[i]));
  }
  return max;
}

async function failure(promise: Promise<unknown>): Promise<UserError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('expected a UserError');
}

function withFiles(changes: Record<string, Uint8Array | object | null>, from = files): FileSource {
  const copy = new Map(from);
  for (const [path, content] of Object.entries(changes)) {
    if (content === null) copy.delete(path);
    else copy.set(path, content instanceof Uint8Array ? content : new TextEncoder().encode(JSON.stringify(content)));
  }
  return memorySource('tiny', copy);
}

/** model.safetensors rewritten with its entries changed by `edit`. */
function editWeights(edit: (entries: TensorEntry[]) => TensorEntry[]): Uint8Array {
  const file = parseSafetensors(files.get('model.safetensors')!);
  const entries = [...file.tensors.values()].map((t) => ({
    name: t.name,
    dtype: 'F32' as const,
    shape: t.shape,
    data: file.read(t.name),
  }));
  return writeSafetensors(edit(entries), { format: 'pt' });
}

describe('writeCheckpoint → loadCheckpoint', () => {
  it('round-trips every weight exactly, fingerprints as the in-memory model, warns about the missing tokenizer', async () => {
    expect([...files.keys()].sort()).toEqual(['config.json', 'model.safetensors']);
    const progress: LoadProgress[] = [];
    const loaded = await loadCheckpoint(memorySource('tiny', files), { onProgress: (p) => progress.push(p) });
    const diff = maxDiff(llama, base, loaded.weights);
    console.log(`checkpoint round trip: max |diff| = ${diff} (tolerance 0), fingerprint ${loaded.fingerprint}`);
    expect(diff).toBe(0);
    expect(loaded.config).toEqual(llama);
    expect(loaded.name).toBe('tiny');
    expect(loaded.fingerprint).toMatch(/^xxh64:[0-9a-f]{16}$/);
    const fromMemory = await fingerprintModel(llama, base);
    expect(loaded.fingerprint).toBe(fromMemory.fingerprint);
    expect(loaded.sampledFingerprint).toBe(fromMemory.sampledFingerprint);
    expect(loaded.tokenizerJson).toBeNull();
    expect(loaded.warnings).toEqual([
      expect.stringMatching(/^no tokenizer\.json: the model loads for token-id work only/),
    ]);
    expect(progress.at(-1)!.loadedBytes).toBe(progress.at(-1)!.totalBytes);
    expect(progress.at(-1)!.totalBytes).toBe(
      4 * (2 * 50 * 16 + 2 * (2 * 16 + 2 * 16 * 16 + 2 * 8 * 16 + 3 * 16 * 24) + 16),
    );
    disposeWeights(loaded.weights);
  });

  it('tied qwen2 with q/k/v biases, tokenizer files, from a Node directory in sharded BF16', async () => {
    const written = await writeCheckpoint(qwen, tied, {
      dtype: 'BF16',
      maxShardBytes: 2000,
      files: { 'tokenizer.json': tokenizerJson, 'tokenizer_config.json': '{"chat_template": "x"}' },
    });
    const shards = [...written.keys()].filter((p) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(p));
    console.log(`sharded write: ${shards.length} shards + model.safetensors.index.json`);
    expect(shards.length).toBeGreaterThan(1);
    const dir = await mkdtemp(join(tmpdir(), 'ckpt-'));
    try {
      await writeFilesToDirectory(dir, written);
      const loaded = await loadCheckpoint(await nodeDirectorySource(dir));
      expect(loaded.weights.lmHead).toBeNull();
      expect(Object.keys(loaded.weights.layers[0].bias).sort()).toEqual(['k_proj', 'q_proj', 'v_proj']);
      expect(loaded.tokenizerJson).toEqual(tokenizerJson);
      expect(loaded.tokenizerConfig).toEqual({ chat_template: 'x' });
      expect(loaded.warnings).toEqual([]);
      // Independent expectation: each original value rounded to bfloat16 by the bit-level codec.
      const want = Array.from(tied.layers[1].bias.v_proj!.dataSync(), (v) => bf16BitsToF32(f32ToBf16Bits(v)));
      expect(Array.from(loaded.weights.layers[1].bias.v_proj!.dataSync())).toEqual(want);
      const rounding = maxDiff(qwen, tied, loaded.weights);
      console.log(
        `BF16 checkpoint: max |diff| to the fp32 original = ${rounding.toExponential(2)} (bf16 rounding, ≤ 2^-8 relative)`,
      );
      expect(rounding).toBeGreaterThan(0);
      expect(rounding).toBeLessThan(0.2 * 2 ** -8);
      disposeWeights(loaded.weights);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('F16 weights upcast exactly as the half-precision codec says', async () => {
    const loaded = await loadCheckpoint(memorySource('f16', await writeCheckpoint(llama, base, { dtype: 'F16' })));
    const want = Array.from(base.layers[0].linear.o_proj.dataSync(), (v) => f16BitsToF32(f32ToF16Bits(v)));
    expect(Array.from(loaded.weights.layers[0].linear.o_proj.dataSync())).toEqual(want);
    expect(loaded.fingerprint).not.toBe((await fingerprintModel(llama, base)).fingerprint);
    disposeWeights(loaded.weights);
  });

  it('splits embed_tokens and lm_head by rows into buffers of at most maxBufferBytes', async () => {
    const maxBufferBytes = 26 * 16 * 4 + 5; // 26 rows of 16 floats fit, 27 do not (linears ≤ 1536 bytes)
    const loaded = await loadCheckpoint(memorySource('tiny', files), { maxBufferBytes });
    for (const shards of [loaded.weights.embedTokens, loaded.weights.lmHead!]) {
      expect(shards.map((s) => s.shape[0])).toEqual([26, 24]);
      for (const s of shards) expect(4 * s.size).toBeLessThanOrEqual(maxBufferBytes);
    }
    const whole = tf.concat(base.embedTokens); // [V, D]
    const joined = tf.concat(loaded.weights.embedTokens); // [V, D]
    expect(joined.shape).toEqual([50, 16]);
    expect(tf.max(tf.abs(tf.sub(whole, joined))).dataSync()[0]).toBe(0);
    expect(loaded.fingerprint).toBe((await fingerprintModel(llama, base)).fingerprint);
    tf.dispose([whole, joined]);
    disposeWeights(loaded.weights);
  });

  it('loads from browser Files (picked folder) and from URLs with and without Range support or content-length', async () => {
    const picked = blobSource(
      [...files].map(([path, bytes]) => ({ path: `SmolTiny/${path}`, blob: new Blob([bytes.slice()]) })),
    );
    expect(picked.name).toBe('SmolTiny');
    const fromBlobs = await loadCheckpoint(picked);
    const served =
      (ranges: boolean, length = true): typeof fetch =>
      async (input, init) => {
        const path = String(input).replace('http://app/models/tiny/', '');
        const bytes = files.get(path);
        if (!bytes) return new Response(null, { status: 404 });
        if (init?.method === 'HEAD')
          return new Response(null, length ? { headers: { 'content-length': String(bytes.length) } } : {});
        const range = new Headers(init?.headers).get('Range')?.match(/^bytes=(\d+)-(\d+)$/);
        if (ranges && range) return new Response(bytes.slice(Number(range[1]), Number(range[2]) + 1), { status: 206 });
        return new Response(bytes.slice());
      };
    for (const [ranges, length] of [
      [true, true],
      [false, true],
      [true, false],
    ]) {
      const fromUrl = await loadCheckpoint(
        urlSource('http://app/models/tiny', [...files.keys()], 'tiny', served(ranges, length)),
      );
      expect(fromUrl.fingerprint).toBe(fromBlobs.fingerprint);
      expect(maxDiff(llama, fromBlobs.weights, fromUrl.weights)).toBe(0);
      disposeWeights(fromUrl.weights);
    }
    disposeWeights(fromBlobs.weights);
  });

  it('ignores rotary inv_freq and, when tied, lm_head.weight; warns about other unused tensors', async () => {
    const extra = (name: string) => ({ name, dtype: 'F32' as const, shape: [2], data: new Float32Array(2) });
    const source = withFiles({
      'model.safetensors': editWeights((e) => [...e, extra('model.layers.0.self_attn.rotary_emb.inv_freq')]),
    });
    expect(await loadCheckpoint(source).then((l) => (disposeWeights(l.weights), l.warnings))).toHaveLength(1);
    const unused = withFiles({
      'model.safetensors': editWeights((e) => [...e, extra('model.layers.0.mlp.gate_proj.bias')]),
    });
    const warnings = await loadCheckpoint(unused).then((l) => (disposeWeights(l.weights), l.warnings));
    expect(warnings).toContain('ignored 1 tensor(s) the model does not use, e.g. "model.layers.0.mlp.gate_proj.bias"');
  });
});

describe('refused checkpoints', () => {
  const before = () => tf.memory().numTensors;
  const cases: [string, () => FileSource, string, string][] = [
    [
      'no config.json',
      () => withFiles({ 'config.json': null }),
      'missing-file',
      'tiny/config.json: config.json not found in tiny',
    ],
    [
      'no weights',
      () => withFiles({ 'model.safetensors': null }),
      'missing-file',
      'tiny: no model.safetensors or model.safetensors.index.json',
    ],
    [
      'pickle weights only',
      () => withFiles({ 'model.safetensors': null, 'pytorch_model.bin': new Uint8Array(4) }),
      'missing-file',
      'tiny: no model.safetensors or model.safetensors.index.json (found pytorch_model.bin: only safetensors weights are supported)',
    ],
    [
      'config.json not JSON',
      () => withFiles({ 'config.json': new TextEncoder().encode('{"model_type": ') }),
      'bad-file',
      'tiny/config.json: is not valid JSON',
    ],
    [
      'config with another intermediate size',
      () => withFiles({ 'config.json': toHfConfig({ ...llama, intermediateSize: 30 }) }),
      'shape-mismatch',
      'tiny/model.safetensors: tensor "model.layers.0.mlp.gate_proj.weight" has shape [24, 16] but config.json implies [30, 16]',
    ],
    [
      'config with an extra layer',
      () => withFiles({ 'config.json': toHfConfig({ ...llama, numLayers: 3 }) }),
      'bad-file',
      'tiny/model.safetensors: tensor "model.layers.2.input_layernorm.weight" is missing (config.json implies it)',
    ],
    [
      'a missing tensor',
      () =>
        withFiles({
          'model.safetensors': editWeights((e) => e.filter((t) => t.name !== 'model.layers.1.self_attn.v_proj.weight')),
        }),
      'bad-file',
      'tiny/model.safetensors: tensor "model.layers.1.self_attn.v_proj.weight" is missing (config.json implies it)',
    ],
    [
      'an untied model without lm_head',
      () => withFiles({ 'model.safetensors': editWeights((e) => e.filter((t) => t.name !== 'lm_head.weight')) }),
      'bad-file',
      'tiny/model.safetensors: tensor "lm_head.weight" is missing (config.json implies it)',
    ],
    [
      'an integer weight',
      () =>
        withFiles({
          'model.safetensors': editWeights((e) =>
            e.map((t) => (t.name === 'model.norm.weight' ? { ...t, dtype: 'I32', data: new Int32Array(16) } : t)),
          ),
        }),
      'unsupported',
      'tiny/model.safetensors: tensor "model.norm.weight" has dtype I32; weights must be F32, F16 or BF16',
    ],
    [
      'index without weight_map',
      () => withFiles({ 'model.safetensors.index.json': { metadata: {} } }),
      'bad-file',
      'tiny/model.safetensors.index.json: has no "weight_map" object',
    ],
    [
      'index naming a missing shard',
      () =>
        withFiles({
          'model.safetensors.index.json': { weight_map: { 'model.norm.weight': 'model-00002-of-00002.safetensors' } },
        }),
      'missing-file',
      'tiny/model.safetensors.index.json: shard model-00002-of-00002.safetensors (listed for "model.norm.weight") not found in tiny',
    ],
    [
      'index pointing at the wrong shard',
      () => withFiles({ 'model.safetensors.index.json': { weight_map: { 'model.nrom.weight': 'model.safetensors' } } }),
      'bad-file',
      'tiny/model.safetensors.index.json: weight_map puts "model.nrom.weight" in model.safetensors, which has no such tensor',
    ],
    [
      'a corrupt safetensors file',
      () => withFiles({ 'model.safetensors': files.get('model.safetensors')!.slice(0, 100) }),
      'bad-file',
      'tiny/model.safetensors: header length',
    ],
    [
      'a tokenizer.json that is not JSON',
      () => withFiles({ 'tokenizer.json': new TextEncoder().encode('nope') }),
      'bad-file',
      'tiny/tokenizer.json: is not valid JSON',
    ],
  ];

  it.each(cases)('%s', async (_what, source, code, message) => {
    const count = before();
    const error = await failure(loadCheckpoint(source()));
    expect(error.code).toBe(code);
    expect(error.message.startsWith(message)).toBe(true);
    expect(tf.memory().numTensors).toBe(count);
  });

  it('a model larger than the memory limit is refused before anything is read', async () => {
    let sliced = 0;
    const source = memorySource('tiny', files);
    const counting: FileSource = { ...source, slice: (...args) => (sliced++, source.slice(...args)) };
    const error = await failure(loadCheckpoint(counting, { memoryLimitBytes: 10_000 }));
    expect(error.code).toBe('too-large');
    expect(error.message).toMatch(
      /^tiny: the model needs 0\.00 GiB for its float32 weights, more than the 0\.00 GiB available/,
    );
    expect(sliced).toBe(0);
  });

  it('a tensor larger than one GPU buffer is refused', async () => {
    const error = await failure(loadCheckpoint(memorySource('tiny', files), { maxBufferBytes: 1000 }));
    expect(error.message).toBe(
      'tiny: tensor "model.layers.0.self_attn.q_proj.weight" takes 1024 bytes in float32, more than the device\'s 1000-byte buffer limit',
    );
    expect((await failure(loadCheckpoint(memorySource('tiny', files), { maxBufferBytes: 60 }))).message).toMatch(
      /one row of model.embed_tokens.weight takes 64 bytes/,
    );
  });

  it('a read failing midway releases the tensors already made', async () => {
    const count = before();
    const source = memorySource('tiny', files);
    let reads = 0;
    const flaky: FileSource = {
      ...source,
      slice: async (...args) => (++reads > 8 ? new Uint8Array(0) : source.slice(...args)),
    };
    const error = await failure(loadCheckpoint(flaky));
    expect(error.message).toMatch(/read 0 bytes at offset \d+ where \d+ were expected/);
    expect(tf.memory().numTensors).toBe(count);
  });
});
