/**
 * `fuse --model DIR --adapter PATH [--adapter PATH ...] [--weights w1,w2,...] --out DIR`:
 * adds Σ_k w_k · ΔW_k of native S²FT and PEFT LoRA adapters into the base weights (paper §6, adapter fusion)
 * and writes a complete HF checkpoint directory: config.json, model.safetensors (in the base's dtype) and the
 * base directory's tokenizer files, copied as they are. Weights default to 1 each. Every adapter
 * must fit this base model (its fingerprint is checked where it records one).
 */
import { copyFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../core/errors';
import { COMPANION_FILES, loadCheckpoint, writeCheckpoint, type WeightsDtype } from '../../core/io/checkpoint';
import { nodeDirectorySource, writeFilesToDirectory } from '../../core/io/nodeFiles';
import type { LlamaWeights, ModelConfig } from '../../core/model/types';
import { fuseAdapters, releaseReplacedWeights } from '../../core/s2ft/fuse';
import { initNodeBackend } from '../lib/backend';
import type { CommandRun } from '../command';
import { modelDirFlag, readAdapters } from '../lib/modelArg';

/**
 * Writes `weights` as a checkpoint directory at `out` with `base`'s config, in the base's dtype,
 * and copies the base directory's tokenizer and generation files beside them.
 */
export async function writeModelDirectory(
  out: string,
  base: { dir: string; config: ModelConfig; dtype: WeightsDtype },
  weights: LlamaWeights,
): Promise<void> {
  if (path.resolve(out) === path.resolve(base.dir)) {
    throw new UserError('bad-argument', '--out must not be the base model directory (it would be overwritten)', out);
  }
  const files = await writeCheckpoint(base.config, weights, { dtype: base.dtype });
  await writeFilesToDirectory(out, files);
  for (const name of COMPANION_FILES) {
    const from = path.join(base.dir, name);
    if (existsSync(from)) await copyFile(from, path.join(out, name));
  }
}

export const run: CommandRun = async ({ flags, log }) => {
  const dir = modelDirFlag(flags);
  const out = flags.requireString('out');
  const adapterFiles = flags.all('adapter');
  if (adapterFiles.length === 0) throw new UserError('bad-argument', 'give at least one --adapter FILE to fuse');
  const weights = parseWeights(flags.string('weights'), adapterFiles.length);
  await initNodeBackend();

  const loaded = await loadCheckpoint(await nodeDirectorySource(dir));
  for (const w of loaded.warnings) log(`warning: ${loaded.name}: ${w}`);
  const { adapters, notes } = await readAdapters(adapterFiles, weights, loaded);
  for (const note of notes) log(`note: ${note}`);
  const fused = fuseAdapters(loaded.weights, adapters);
  await writeModelDirectory(out, { dir, config: loaded.config, dtype: loaded.dtype }, fused);
  releaseReplacedWeights(loaded.weights, fused);
  log(`fused ${adapters.length} adapter(s) into ${loaded.name} with weights ${weights.join(', ')}; wrote ${out}`);
  return {
    model: loaded.name,
    adapters: adapterFiles,
    weights,
    blocks: adapters.reduce((n, a) => n + a.adapter.blocks.length, 0),
    out,
  };
};

/** `--weights w1,w2,...`: one finite number per adapter (default 1 each). */
function parseWeights(raw: string | undefined, count: number): number[] {
  if (raw === undefined) return Array<number>(count).fill(1);
  const values = raw.split(',').map((s) => s.trim());
  const numbers = values.map(Number);
  if (values.some((v) => v === '') || numbers.some((n) => !Number.isFinite(n))) {
    throw new UserError('bad-argument', `--weights must be a comma-separated list of numbers, got "${raw}"`);
  }
  if (numbers.length !== count) {
    throw new UserError(
      'bad-argument',
      `--weights has ${numbers.length} value(s) but ${count} --adapter file(s) were given`,
    );
  }
  return numbers;
}
