// The command line end to end: `train` writes an S²FT adapter whose deltas are exactly one SGD
// step, checked against plain autodiff of the full weights; `fuse` writes a checkpoint that
// carries those deltas; user errors exit 2 with one line.
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSafetensors, writeSafetensors, type TensorEntry } from '../src/core/io/safetensors';
import { toHfConfig } from '../src/core/model/config';
import { defaultLinear, forward } from '../src/core/model/llama';
import { disposeWeights, initWeights } from '../src/core/model/init';
import { tinyConfig } from '../src/core/model/testing/tinyModels';
import { linearWeightName, MODULE_NAMES, type LlamaWeights, type ModelConfig } from '../src/core/model/types';
import { decodeS2ftAdapter } from '../src/core/s2ft/adapter';
import { crossEntropy, nextTokenLabels } from '../src/core/train/loss';

const ROOT = path.resolve(import.meta.dirname, '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(TSX, [path.join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A HF checkpoint directory written tensor by tensor (independent of the studio's writer). */
function writeTinyCheckpoint(dir: string, config: ModelConfig, w: LlamaWeights): void {
  const entry = (name: string, t: tf.Tensor): TensorEntry => ({
    name,
    dtype: 'F32',
    shape: t.shape,
    data: t.dataSync() as Float32Array,
  });
  const entries = [entry('model.embed_tokens.weight', w.embedTokens[0]), entry('model.norm.weight', w.norm)];
  if (w.lmHead) entries.push(entry('lm_head.weight', w.lmHead[0]));
  w.layers.forEach((layer, i) => {
    entries.push(entry(`model.layers.${i}.input_layernorm.weight`, layer.inputLayernorm));
    entries.push(entry(`model.layers.${i}.post_attention_layernorm.weight`, layer.postAttentionLayernorm));
    for (const m of MODULE_NAMES) entries.push(entry(`${linearWeightName(i, m)}.weight`, layer.linear[m]));
  });
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(toHfConfig(config)));
  writeFileSync(path.join(dir, 'model.safetensors'), writeSafetensors(entries, { format: 'pt' }));
}

/** Columns of o_proj owned by the selected heads, or the selected down_proj channels. */
function selectedColumns(module: string, units: number[], headDim: number): number[] {
  return module === 'o_proj' ? units.flatMap((h) => Array.from({ length: headDim }, (_, d) => h * headDim + d)) : units;
}

describe('CLI train and fuse', () => {
  // GQA (4 query heads over 2 kv heads), untied lm_head.
  const config = tinyConfig({
    hiddenSize: 32,
    intermediateSize: 48,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 8,
    vocabSize: 50,
  });
  const selection = {
    layers: [
      { heads: [1, 3], channels: [0, 5, 17] },
      { heads: [2], channels: [3, 4, 40, 47] },
    ],
  };
  const B = 3;
  const L = 10;
  const lr = 0.5;
  let dir: string;
  let base: LlamaWeights;
  let rows: number[][];

  beforeAll(async () => {
    await tf.setBackend('cpu');
    dir = mkdtempSync(path.join(tmpdir(), 'cli-train-'));
    base = initWeights(config, 11, { std: 0.2 });
    writeTinyCheckpoint(path.join(dir, 'model'), config, base);
    writeFileSync(path.join(dir, 'selection.json'), JSON.stringify(selection));
    rows = Array.from({ length: B }, (_, b) =>
      Array.from({ length: L }, (_, t) => (7 * b + 13 * t + t * t) % config.vocabSize),
    );
    writeFileSync(
      path.join(dir, 'data.jsonl'),
      rows.map((ids) => JSON.stringify({ input_ids: ids })).join('\n') + '\n',
    );
  });

  afterAll(() => {
    disposeWeights(base);
    rmSync(dir, { recursive: true, force: true });
  });

  it('one SGD step of S²FT: adapter delta = −η × ∇W of the mean next-token CE, restricted to the selected columns', () => {
    const out = path.join(dir, 'adapter.safetensors');
    const r = cli([
      'train',
      '--model',
      path.join(dir, 'model'),
      '--data',
      path.join(dir, 'data.jsonl'),
      '--method',
      's2ft',
      '--selection',
      path.join(dir, 'selection.json'),
      '--optimizer',
      'sgd',
      '--lr',
      String(lr),
      '--steps',
      '1',
      '--grad-clip',
      '0',
      '--batch-size',
      String(B),
      '--out',
      out,
      '--json',
    ]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(summary.method).toBe('s2ft');
    expect(summary.steps).toBe(1);
    const adapter = decodeS2ftAdapter(new Uint8Array(readFileSync(out)), out);

    // Reference: plain forward with the default linear, gradient of the FULL o_proj / down_proj weights.
    const targets = ['o_proj', 'down_proj'] as const;
    const vars = base.layers.flatMap((layer) => targets.map((m) => tf.variable(layer.linear[m], true)));
    const weights: LlamaWeights = {
      ...base,
      layers: base.layers.map((layer, i) => ({
        ...layer,
        linear: { ...layer.linear, o_proj: vars[2 * i] as tf.Tensor2D, down_proj: vars[2 * i + 1] as tf.Tensor2D },
      })),
    };
    const ids = tf.tensor2d(rows.flat(), [B, L], 'int32'); // [B, L]
    const labels = tf.tensor2d(
      rows.flatMap((r) => Array.from(nextTokenLabels(r))),
      [B, L],
      'int32',
    ); // [B, L]
    const { value, grads } = tf.variableGrads(
      () => crossEntropy(forward({ config, weights }, ids, { linear: defaultLinear }), labels),
      vars,
    );
    expect(Math.abs((summary.finalLoss as number) - value.dataSync()[0])).toBeLessThan(1e-5);

    let maxErr = 0;
    let maxRef = 0;
    let blocks = 0;
    selection.layers.forEach((sel, layer) => {
      targets.forEach((module, k) => {
        const block = adapter.blocks.find((b) => b.layer === layer && b.module === module);
        expect(block, `block for layer ${layer} ${module}`).toBeDefined();
        if (!block) return;
        blocks++;
        const cols = selectedColumns(module, module === 'o_proj' ? sel.heads : sel.channels, config.headDim);
        expect(Array.from(block.indices)).toEqual(cols);
        const g = grads[vars[2 * layer + k].name].arraySync() as number[][]; // [out, in]
        const [out, kCols] = block.shape;
        expect(kCols).toBe(cols.length);
        for (let o = 0; o < out; o++) {
          cols.forEach((c, j) => {
            const want = -lr * g[o][c];
            maxErr = Math.max(maxErr, Math.abs(block.delta[o * kCols + j] - want));
            maxRef = Math.max(maxRef, Math.abs(want));
          });
        }
      });
    });
    const rel = maxErr / maxRef;
    console.log(
      `train --steps 1 sgd: ${blocks} blocks, max |Δ − (−η∇W)| = ${maxErr.toExponential(2)}, ` +
        `max |−η∇W| = ${maxRef.toExponential(2)}, relative ${rel.toExponential(2)} (tol 1e-4)`,
    );
    expect(blocks).toBe(4);
    expect(maxRef).toBeGreaterThan(1e-4);
    expect(rel).toBeLessThan(1e-4);
    tf.dispose([ids, labels, value, ...Object.values(grads), ...vars]);
  });

  it('fuse writes a checkpoint whose selected columns carry the adapter delta (weights scale it)', () => {
    const adapterFile = path.join(dir, 'adapter.safetensors');
    const out = path.join(dir, 'fused');
    const r = cli([
      'fuse',
      '--model',
      path.join(dir, 'model'),
      '--adapter',
      adapterFile,
      '--weights',
      '0.5',
      '--out',
      out,
      '--json',
    ]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    const adapter = decodeS2ftAdapter(new Uint8Array(readFileSync(adapterFile)), adapterFile);
    const fused = parseSafetensors(new Uint8Array(readFileSync(path.join(out, 'model.safetensors'))), 'fused');
    let maxErr = 0;
    for (const block of adapter.blocks) {
      const name = `${linearWeightName(block.layer, block.module)}.weight`;
      const got = fused.read(name);
      const want = Float32Array.from(base.layers[block.layer].linear[block.module].dataSync());
      const inDim = base.layers[block.layer].linear[block.module].shape[1];
      const [outDim, k] = block.shape;
      for (let o = 0; o < outDim; o++)
        for (let j = 0; j < k; j++) want[o * inDim + block.indices[j]] += 0.5 * block.delta[o * k + j];
      got.forEach((v, i) => {
        maxErr = Math.max(maxErr, Math.abs(v - want[i]));
      });
    }
    const untouched = fused.read(`${linearWeightName(0, 'q_proj')}.weight`);
    const q0 = base.layers[0].linear.q_proj.dataSync();
    console.log(`fuse --weights 0.5: max |W_fused − (W + 0.5·Δ)| = ${maxErr.toExponential(2)} (tol 1e-6)`);
    expect(maxErr).toBeLessThan(1e-6);
    expect(Array.from(untouched)).toEqual(Array.from(q0));
    expect(JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8')).hidden_size).toBe(config.hiddenSize);
  });

  it('refuses bad flags with exit status 2 and one line naming the problem', () => {
    const r = cli([
      'train',
      '--model',
      path.join(dir, 'model'),
      '--data',
      path.join(dir, 'data.jsonl'),
      '--optimizer',
      'rmsprop',
      '--out',
      path.join(dir, 'x.safetensors'),
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('error: --optimizer must be one of adamw, sgd, got "rmsprop"');
    const missing = cli([
      'train',
      '--model',
      path.join(dir, 'model'),
      '--data',
      path.join(dir, 'nope.jsonl'),
      '--selection',
      path.join(dir, 'selection.json'),
      '--out',
      path.join(dir, 'x.safetensors'),
    ]);
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/nope\.jsonl/);
  });
});
