/**
 * The PyTorch side of the real-shape comparison (Node only): a checkpoint and a token dataset on
 * disk, the project's own recipe exported for them (`cli export-recipe`), and that recipe run by
 * Debian's PyTorch on one thread, reporting each update's process CPU time and loss.
 *
 * Debian's python3-torch is built against the generic BLAS interface (torch.__config__ says
 * BLAS_INFO=generic whatever is installed); which library it calls is libblas.so.3's alternative.
 * The reference BLAS makes a step ~20× slower, so the comparison refuses to run on it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeCheckpoint } from '../../src/core/io/checkpoint';
import { writeFilesToDirectory } from '../../src/core/io/nodeFiles';
import { disposeWeights, initWeights } from '../../src/core/model/init';
import type { ModelConfig } from '../../src/core/model/types';
import type { MethodName } from '../../src/core/train/method';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** One thread for every BLAS and OpenMP pool torch might use: tfjs wasm runs on one in Node. */
const ONE_THREAD = { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };

/** $PYTHON, else Debian's python3 (the one python3-torch installs into). */
export const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';

const BLAS_PROBE = `
import os, torch
a = torch.ones(64, 64); a @ a
libs = sorted({l.split()[-1] for l in open('/proc/self/maps') if 'blas' in l.lower() and '/' in l})
print(torch.__version__, torch.get_num_threads(), *[os.path.realpath(p) for p in libs])
`;

/** torch's version and the BLAS library it loaded; throws on the reference BLAS or no torch. */
export function torchBlas(): { torch: string; blas: string } {
  let out: string;
  try {
    out = execFileSync(PYTHON, ['-c', BLAS_PROBE], { env: { ...process.env, ...ONE_THREAD }, encoding: 'utf8' });
  } catch (e) {
    throw new Error(`${PYTHON} cannot import torch (Debian: apt-get install python3-torch)`, { cause: e });
  }
  const [torch, , ...libs] = out.trim().split(/\s+/);
  const blas = libs.find((l) => /libblas|openblas|mkl|blis/.test(l)) ?? 'none found';
  if (!libs.some((l) => /openblas|mkl|blis/.test(l)))
    throw new Error(
      `torch ${torch} runs on the reference BLAS (${libs.join(', ') || 'no BLAS library mapped'}): ` +
        'install an optimized one first (Debian: apt-get install libopenblas0-pthread)',
    );
  return { torch, blas: libs.find((l) => /openblas|mkl|blis/.test(l)) ?? blas };
}

/**
 * A model of `config` with initWeights(config, seed) written as a checkpoint, and `rows` rows of
 * seqLen + 1 random token ids as a pre-tokenized dataset, under `dir`. Returns their paths.
 */
export async function writeCase(
  dir: string,
  config: ModelConfig,
  seed: number,
  rows: number,
  seqLen: number,
): Promise<{ modelDir: string; data: string }> {
  const modelDir = path.join(dir, 'model');
  const weights = initWeights(config, seed);
  await writeFilesToDirectory(modelDir, await writeCheckpoint(config, weights));
  disposeWeights(weights);
  let state = seed + 1;
  const next = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0);
  const lines = Array.from({ length: rows }, () =>
    JSON.stringify({ input_ids: Array.from({ length: seqLen + 1 }, () => next() % config.vocabSize) }),
  );
  mkdirSync(dir, { recursive: true });
  const data = path.join(dir, 'data.jsonl');
  writeFileSync(data, `${lines.join('\n')}\n`);
  return { modelDir, data };
}

/**
 * The method flags `train` and `export-recipe` share for the comparison: S²FT matched to LoRA rank
 * 8 (random selection), LoRA at rank 8, or full fine-tuning.
 */
export function methodFlags(method: MethodName): string[] {
  if (method === 's2ft') return ['--method', 's2ft', '--strategy', 'random', '--match-lora-rank', '8'];
  if (method === 'lora') return ['--method', 'lora', '--lora-rank', '8'];
  return ['--method', 'full'];
}

/** `npm run cli -- export-recipe` for a run of `method` (seed 0, constant learning rate 1e-4). */
export function exportRecipe(
  modelDir: string,
  data: string,
  out: string,
  run: { method: MethodName; batchSize: number; seqLen: number; steps: number },
): void {
  const args = ['--model', modelDir, '--data', data, '--out', out, ...methodFlags(run.method)];
  args.push('--batch-size', String(run.batchSize), '--seq-len', String(run.seqLen), '--steps', String(run.steps));
  args.push('--lr', '1e-4', '--schedule', 'constant', '--seed', '0');
  execFileSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'export-recipe', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** Runs an exported recipe's train.py (CPU: no CUDA here) on one thread: per-update CPU ms and losses. */
export function runRecipe(recipeDir: string, steps: number): { stepCpuMs: number[]; losses: number[] } {
  const metrics = path.join(recipeDir, 'metrics.json');
  execFileSync(PYTHON, ['train.py', '--steps', String(steps), '--metrics', metrics], {
    cwd: recipeDir,
    env: { ...process.env, ...ONE_THREAD, CUDA_VISIBLE_DEVICES: '' }, // the CPU, even where there is a GPU
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const m = JSON.parse(readFileSync(metrics, 'utf8')) as { losses: number[]; step_cpu_seconds: number[] };
  return { stepCpuMs: m.step_cpu_seconds.map((s) => s * 1000), losses: m.losses };
}
