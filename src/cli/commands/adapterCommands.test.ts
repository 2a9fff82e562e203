/**
 * Adapters on the command line end to end: PEFT LoRA folders, their files and zips mixed with
 * native S²FT adapters in `eval` and `fuse`, `export-peft`, the fingerprint catching one changed
 * weight, the old fingerprint kind, and bad adapters refused in one line with exit status 2.
 * The CLI is spawned as a user runs it; losses are checked against the float64 reference.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, writeCheckpoint, type LoadedCheckpoint } from '../../core/io/checkpoint';
import { nodeDirectorySource, writeFilesToDirectory } from '../../core/io/nodeFiles';
import { disposeWeights, initWeights } from '../../core/model/init';
import { referenceForward } from '../../core/model/testing/referenceLlama';
import { tinyConfig, toRefWeights } from '../../core/model/testing/tinyModels';
import type { LlamaWeights } from '../../core/model/types';
import { handPairs, handPeftFiles } from '../../core/peft/testing/handPeft';
import { parseSafetensors } from '../../core/io/safetensors';
import { encodeS2ftAdapter, type S2ftAdapter } from '../../core/s2ft/adapter';
import { exportPeftLora, peftZip } from '../../core/s2ft/peft';
import { randomAdapter } from '../../core/s2ft/testing/randomAdapter';

const ROOT = path.resolve(__dirname, '../../..');
const config = tinyConfig({ vocabSize: 64 });
const rows = [
  [3, 17, 42, 8, 9, 10, 11],
  [40, 41, 42, 43, 44],
];
let dir: string;
let model: string;
let loaded: LoadedCheckpoint;
let weights: LlamaWeights;
let native: S2ftAdapter;
let nativeFile: string;
let peftDir: string;
const lora = handPairs(
  [0, 1].map((l) => ({ key: `model.layers.${l}.self_attn.q_proj`, rank: 2, inDim: 32, outDim: 32 })),
  70,
);

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

type RefWeights = ReturnType<typeof toRefWeights>;
const FIELD = {
  q_proj: 'q',
  k_proj: 'k',
  v_proj: 'v',
  o_proj: 'o',
  gate_proj: 'gate',
  up_proj: 'up',
  down_proj: 'down',
} as const;

/** W[layer][module] += scaling · B·A in float64 (A [r, in], B [out, r]). */
function addLora(
  ref: RefWeights,
  layer: number,
  module: keyof typeof FIELD,
  A: ArrayLike<number>,
  B: ArrayLike<number>,
  r: number,
  scaling: number,
): void {
  const W = ref.layers[layer][FIELD[module]];
  const inDim = A.length / r;
  const out = B.length / r;
  for (let o = 0; o < out; o++)
    for (let i = 0; i < inDim; i++) {
      let sum = 0;
      for (let k = 0; k < r; k++) sum += B[o * r + k] * A[k * inDim + i];
      W[o * inDim + i] += scaling * sum;
    }
}

/** Mean next-token cross-entropy over `rows` in float64, after `edit` changes the reference weights. */
function referenceLossWith(edit: (ref: RefWeights) => void): number {
  const ref = toRefWeights(weights);
  edit(ref);
  let sum = 0;
  let tokens = 0;
  const V = config.vocabSize;
  for (const row of rows) {
    const logits = referenceForward(config, ref, [row]);
    for (let t = 0; t + 1 < row.length; t++) {
      const z = logits.subarray(t * V, (t + 1) * V);
      const max = Math.max(...z);
      sum += max + Math.log(z.reduce((s, x) => s + Math.exp(x - max), 0)) - z[row[t + 1]];
      tokens++;
    }
  }
  return sum / tokens;
}

/** The loss of W + Σ w·ΔW: the hand-made LoRA (q_proj, scaling 3/2) and the native S²FT blocks. */
function referenceLoss(loraWeight: number, nativeWeight: number): number {
  return referenceLossWith((ref) => {
    lora.forEach((p, l) => addLora(ref, l, 'q_proj', p.A, p.B, 2, loraWeight * 1.5));
    for (const b of native.blocks) {
      const W = ref.layers[b.layer][FIELD[b.module]];
      const inDim = b.module === 'down_proj' ? config.intermediateSize : config.hiddenSize;
      const [r, c] = b.shape;
      for (let i = 0; i < r; i++)
        for (let j = 0; j < c; j++) {
          const at = b.axis === 'columns' ? i * inDim + b.indices[j] : b.indices[i] * inDim + j;
          W[at] += nativeWeight * b.delta[i * c + j];
        }
    }
  });
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(path.join(tmpdir(), 'adapter-cli-'));
  weights = initWeights(config, 8, { std: 0.3 });
  model = path.join(dir, 'tiny');
  await writeFilesToDirectory(model, await writeCheckpoint(config, weights));
  loaded = await loadCheckpoint(await nodeDirectorySource(model));
  disposeWeights(loaded.weights);
  const selection = {
    layers: [
      { heads: [1], channels: [0, 5], upChannels: [3] },
      { heads: [], channels: [7] },
    ],
  };
  native = randomAdapter(config, selection, 6, 'tiny', loaded.fingerprint);
  nativeFile = path.join(dir, 'native.safetensors');
  writeFileSync(nativeFile, encodeS2ftAdapter(native.blocks, native.info));
  peftDir = path.join(dir, 'peft');
  const files = handPeftFiles({ r: 2, lora_alpha: 3, target_modules: ['q_proj'] }, lora);
  mkdirSync(peftDir);
  writeFileSync(path.join(peftDir, 'adapter_config.json'), files.config);
  writeFileSync(path.join(peftDir, 'adapter_model.safetensors'), files.weights);
  writeFileSync(path.join(peftDir, 'README.md'), 'a model card PEFT writes beside the adapter');
  writeFileSync(
    path.join(dir, 'peft.zip'),
    zipSync({ 'my-adapter/adapter_config.json': files.config, 'my-adapter/adapter_model.safetensors': files.weights }),
  );
  writeFileSync(path.join(dir, 'data.jsonl'), rows.map((r) => JSON.stringify({ input_ids: r })).join('\n'));
});

afterAll(() => {
  disposeWeights(weights);
  rmSync(dir, { recursive: true, force: true });
});

describe('PEFT LoRA adapters in eval and fuse', () => {
  it('eval: a PEFT folder, its zip and its weights file, each mixed with a native adapter, match float64', () => {
    const want = referenceLoss(1, 1);
    const data = path.join(dir, 'data.jsonl');
    for (const peft of [peftDir, path.join(dir, 'peft.zip'), path.join(peftDir, 'adapter_model.safetensors')]) {
      const r = cli('eval', '--model', model, '--adapter', peft, '--adapter', nativeFile, '--data', data, '--json');
      expect(r.code, r.stderr).toBe(0);
      const got = r.json().loss as number;
      console.log(
        `eval with ${path.basename(peft)} + native: loss ${got}, float64 ${want}, |diff| ${Math.abs(got - want).toExponential(2)}`,
      );
      expect(Math.abs(got - want)).toBeLessThan(1e-5);
      expect(r.stderr).toMatch(/note: .*records no base-model fingerprint/);
    }
    expect(Math.abs(referenceLoss(0, 0) - want)).toBeGreaterThan(1e-2); // the adapters matter
  });

  it('fuse --weights 0.5,2 writes a checkpoint whose loss is the float64 one', () => {
    const out = path.join(dir, 'fused');
    const r = cli(
      'fuse',
      '--model',
      model,
      '--adapter',
      peftDir,
      '--adapter',
      nativeFile,
      '--weights',
      '0.5,2',
      '--out',
      out,
    );
    expect(r.code, r.stderr).toBe(0);
    const e = cli('eval', '--model', out, '--data', path.join(dir, 'data.jsonl'), '--json');
    expect(e.code, e.stderr).toBe(0);
    const want = referenceLoss(0.5, 2);
    console.log(`fused 0.5·LoRA + 2·S²FT: loss ${e.json().loss}, float64 ${want}`);
    expect(Math.abs((e.json().loss as number) - want)).toBeLessThan(1e-5);
  });

  it('fuse keeps a bfloat16 base in bfloat16: adapted linears rounded, the rest byte for byte', async () => {
    const bf16 = path.join(dir, 'tiny-bf16');
    await writeFilesToDirectory(bf16, await writeCheckpoint(config, weights, { dtype: 'BF16' }));
    const out = path.join(dir, 'fused-bf16');
    const r = cli('fuse', '--model', bf16, '--adapter', peftDir, '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const read = (folder: string) =>
      parseSafetensors(new Uint8Array(readFileSync(path.join(folder, 'model.safetensors'))));
    const [before, after] = [read(bf16), read(out)];
    expect([...after.tensors.values()].every((t) => t.dtype === 'BF16')).toBe(true);
    expect(JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8')).torch_dtype).toBe('bfloat16');
    const changed = [...after.tensors.keys()].filter((name) =>
      Array.from(after.read(name)).some((v, i) => v !== before.read(name)[i]),
    );
    // The hand-made LoRA adapts q_proj only, in every layer.
    expect(changed.sort()).toEqual(
      Array.from({ length: config.numLayers }, (_, l) => `model.layers.${l}.self_attn.q_proj.weight`).sort(),
    );
  });
});

describe('train --method lora', () => {
  it('its folder loads in eval as W + (alpha / r)·B·A read straight from the written tensors', () => {
    const out = path.join(dir, 'trained-lora');
    const data = path.join(dir, 'data.jsonl');
    const t = cli(
      'train',
      '--model',
      model,
      '--data',
      data,
      '--method',
      'lora',
      '--lora-rank',
      '2',
      '--lora-alpha',
      '3',
      '--optimizer',
      'sgd',
      '--lr',
      '0.5',
      '--steps',
      '2',
      '--batch-size',
      '2',
      '--out',
      out,
      '--json',
    );
    expect(t.code, t.stderr).toBe(0);
    const cfg = JSON.parse(readFileSync(path.join(out, 'adapter_config.json'), 'utf8')) as {
      r: number;
      lora_alpha: number;
    };
    const st = parseSafetensors(new Uint8Array(readFileSync(path.join(out, 'adapter_model.safetensors'))));
    const want = referenceLossWith((ref) => {
      for (const name of st.tensors.keys()) {
        const m = /^base_model\.model\.model\.layers\.(\d+)\.\w+\.(\w+)\.lora_A\.weight$/.exec(name);
        if (!m) continue;
        const B = st.read(name.replace('lora_A', 'lora_B'));
        addLora(ref, Number(m[1]), m[2] as keyof typeof FIELD, st.read(name), B, cfg.r, cfg.lora_alpha / cfg.r);
      }
    });
    const e = cli('eval', '--model', model, '--adapter', out, '--data', data, '--json');
    expect(e.code, e.stderr).toBe(0);
    const got = e.json().loss as number;
    console.log(`train --method lora output: eval loss ${got}, float64 ${want}, base ${referenceLossWith(() => {})}`);
    expect(Math.abs(got - want)).toBeLessThan(1e-5);
    expect(Math.abs(got - referenceLossWith(() => {}))).toBeGreaterThan(1e-4); // training moved it
    expect(e.stderr).not.toMatch(/note:/); // it records this base's fingerprint
  });
});

describe('export-peft', () => {
  it("writes the studio zip's files byte for byte, and they load back to the same loss", () => {
    const out = path.join(dir, 'exported');
    const r = cli('export-peft', '--adapter', nativeFile, '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const studio = unzipSync(peftZip(exportPeftLora(native)));
    for (const name of ['adapter_config.json', 'adapter_model.safetensors'])
      expect(Buffer.compare(readFileSync(path.join(out, name)), Buffer.from(studio[name])), name).toBe(0);
    const data = path.join(dir, 'data.jsonl');
    const a = cli('eval', '--model', model, '--adapter', out, '--data', data, '--json');
    const b = cli('eval', '--model', model, '--adapter', nativeFile, '--data', data, '--json');
    expect([a.code, b.code], a.stderr + b.stderr).toEqual([0, 0]);
    console.log(`native ${b.json().loss} vs its PEFT export ${a.json().loss}`);
    expect(Math.abs((a.json().loss as number) - (b.json().loss as number))).toBeLessThan(1e-6);
    expect(a.stderr).not.toMatch(/note:/); // it carries the base fingerprint
  });
});

describe('the fingerprint and bad adapters', () => {
  it('one weight changed by 1e-3 where the old fingerprint did not look: the adapter is refused naming both models', async () => {
    const changed = path.join(dir, 'tiny-changed');
    // Embedding value 2 of 2048: the old fingerprint sampled indices ⌊k·2048/1024⌋ = 0, 2, 4, ... so take 3.
    const embed = Float32Array.from(weights.embedTokens[0].dataSync());
    embed[3] += 1e-3;
    const shard = tf.tensor2d(embed, weights.embedTokens[0].shape as [number, number]);
    await writeFilesToDirectory(changed, await writeCheckpoint(config, { ...weights, embedTokens: [shard] }));
    const other = await loadCheckpoint(await nodeDirectorySource(changed));
    disposeWeights(other.weights);
    shard.dispose();
    expect(other.sampledFingerprint).toBe(loaded.sampledFingerprint); // the hole the old kind had
    expect(other.fingerprint).not.toBe(loaded.fingerprint);
    for (const adapter of [nativeFile, path.join(dir, 'exported')]) {
      const r = cli('eval', '--model', changed, '--adapter', adapter, '--data', path.join(dir, 'data.jsonl'));
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toContain(`the adapter was trained on "tiny" (fingerprint ${loaded.fingerprint})`);
      expect(r.stderr).toContain(`the loaded model is "tiny-changed" (fingerprint ${other.fingerprint})`);
    }
  });

  it('an adapter with the old kind of fingerprint still loads, with a one-line note', () => {
    const old = path.join(dir, 'old.safetensors');
    writeFileSync(
      old,
      encodeS2ftAdapter(native.blocks, {
        ...native.info,
        baseModel: { name: 'tiny', fingerprint: loaded.sampledFingerprint },
      }),
    );
    const r = cli('eval', '--model', model, '--adapter', old, '--data', path.join(dir, 'data.jsonl'), '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.split('\n').filter((line) => line.startsWith('note:'))).toEqual([
      expect.stringMatching(/^note: .*old\.safetensors: the adapter's base-model fingerprint is the old kind/),
    ]);
  });

  it.each([
    ['a folder with only adapter_model.bin', 'bin', /has no adapter_model\.safetensors \(found adapter_model\.bin/],
    ['a truncated weights file', 'cut', /adapter_model\.safetensors: /],
    ['a hostile config (DoRA)', 'dora', /use_dora is true: DoRA is not supported/],
    ['a rank that does not match its tensors', 'rank', /its tensors have rank 2, but the config gives r = 5/],
    [
      'a module the model lacks',
      'layer',
      /adapts "model\.layers\.9\.self_attn\.q_proj", but the loaded model "tiny" has 2 layers/,
    ],
    ['a truncated zip', 'zip', /peft-cut\.zip: /],
  ])('%s: exit 2, one line', (_, kind, message) => {
    const bad = path.join(dir, `bad-${kind}`);
    mkdirSync(bad, { recursive: true });
    const good = handPeftFiles({ r: 2, lora_alpha: 3, target_modules: ['q_proj'] }, lora);
    let target = bad;
    if (kind === 'bin') writeFileSync(path.join(bad, 'adapter_model.bin'), 'pickle');
    writeFileSync(path.join(bad, 'adapter_config.json'), good.config);
    if (kind === 'cut')
      writeFileSync(path.join(bad, 'adapter_model.safetensors'), good.weights.subarray(0, good.weights.length - 10));
    if (kind === 'dora' || kind === 'rank') {
      const cfg = kind === 'dora' ? { use_dora: true } : { rank_pattern: { q_proj: 5 } };
      const files = handPeftFiles({ r: 2, lora_alpha: 3, target_modules: ['q_proj'], ...cfg }, lora);
      writeFileSync(path.join(bad, 'adapter_config.json'), files.config);
      writeFileSync(path.join(bad, 'adapter_model.safetensors'), files.weights);
    }
    if (kind === 'layer') {
      const far = handPairs([{ key: 'model.layers.9.self_attn.q_proj', rank: 2, inDim: 32, outDim: 32 }], 1);
      writeFileSync(path.join(bad, 'adapter_model.safetensors'), handPeftFiles({}, far).weights);
    }
    if (kind === 'zip') {
      target = path.join(dir, 'peft-cut.zip');
      const zip = readFileSync(path.join(dir, 'peft.zip'));
      writeFileSync(target, zip.subarray(0, zip.length - 40));
    }
    const r = cli('eval', '--model', model, '--adapter', target, '--data', path.join(dir, 'data.jsonl'));
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });
});
