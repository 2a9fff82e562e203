/**
 * `npm run bench` — S²FT vs LoRA vs full FT in Node, adapter switching and multi-adapter serving,
 * and our training step against the exported PyTorch recipe on the same machine.
 *   npm run bench [-- --quick] [-- --backend wasm|cpu] [-- --profile] [-- --only pytorch [--case embedded]]
 * --only pytorch reruns just the PyTorch comparison into the existing results file; with --case
 * embedded it runs only the embedded model's S²FT case and prints it, writing nothing (for iterating).
 * Writes bench/results/node-<backend>[-quick].json, two SVG plots, and regenerates the README's
 * benchmark section (full runs only). --profile also writes bench/results/profile-<backend>.json
 * (per-kernel time and bytes of one step of each method), the data behind bench/PROFILE.md.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { describeBackend, initNodeBackend } from '../src/cli/lib/backend';
import type { ModelConfig } from '../src/core/model/types';
import { METHOD_LABEL, METHOD_NAMES as METHODS } from '../src/core/train/method';
import { defaultModelConfig, SMOLLM2_135M, WEIGHTS_DOMINATED } from './lib/configs';
import { gradientCheck } from './lib/gradcheck';
import { compareMethods, matmulFlopsPerSec } from './lib/compare';
import { kernelSummary, type KernelSummary, type ProfileInfo } from './lib/profile';
import { torchBlas } from './lib/pytorch';
import { compareWithPyTorch, type PyTorchCase } from './lib/realShape';
import { methodsChart, resultsMarkdown, withTargets, type BenchResults, type PyTorchComparison } from './lib/results';
import { shapeRatios, type ShapeResult } from './lib/stats';
import { logLineChart } from './lib/svg';
import { servingAt, switchAt, type ServingPoint, type SwitchPoint } from './lib/switching';
import { regenerateReadme } from './readme';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const profile = argv.includes('--profile');
const backendArg = argv.includes('--backend') ? argv[argv.indexOf('--backend') + 1] : 'wasm';
if (backendArg !== 'wasm' && backendArg !== 'cpu') throw new Error(`--backend must be wasm or cpu, got ${backendArg}`);
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : null;
if (only !== null && only !== 'pytorch') throw new Error(`--only takes pytorch, got ${only}`);
const onlyCase = argv.includes('--case') ? argv[argv.indexOf('--case') + 1] : null;
if (onlyCase !== null && (onlyCase !== 'embedded' || only === null))
  throw new Error(`--case takes embedded, after --only pytorch; got ${onlyCase}`);
const here = path.dirname(fileURLToPath(import.meta.url));
const log = (line: string) => console.log(line);

const describe = (c: ModelConfig) =>
  `hidden ${c.hiddenSize}, ${c.numLayers} layers, ${c.numHeads}/${c.numKvHeads} heads, FFN ${c.intermediateSize}, vocab ${c.vocabSize}`;

/**
 * Our S²FT step against the exported recipe in PyTorch (bench/lib/realShape.ts): the SmolLM2-135M
 * shape at 1 × 128 and 4 × 256, and the embedded model's shape; null when torch is missing or
 * runs on the reference BLAS (said on the log).
 */
async function pytorchComparison(): Promise<PyTorchComparison | null> {
  let probe: { torch: string; blas: string };
  try {
    probe = torchBlas();
  } catch (e) {
    log(`PyTorch comparison skipped: ${(e as Error).message}`);
    return null;
  }
  log(`PyTorch ${probe.torch} on ${probe.blas}, one thread; ours on ${await describeBackend()}`);
  const def = defaultModelConfig();
  const smol = { shape: 'SmolLM2-135M shape', description: describe(SMOLLM2_135M), config: SMOLLM2_135M };
  const embedded = { shape: 'embedded model', description: describe(def.config), config: def.config };
  const all = [
    ...METHODS.map((method) => ({ ...smol, method, batchSize: 1, seqLen: 128, rounds: 2 })),
    // One round: each of our updates takes about half a minute of CPU here.
    ...(quick ? [] : [{ ...smol, method: 's2ft' as const, batchSize: 4, seqLen: 256, rounds: 1 }]),
    ...METHODS.map((method) => ({ ...embedded, method, batchSize: 16, seqLen: 128, rounds: 3 })),
  ];
  const runs = onlyCase === 'embedded' ? all.filter((r) => r.config === def.config && r.method === 's2ft') : all;
  const cases: PyTorchCase[] = [];
  for (const run of runs) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 's2ft-bench-'));
    try {
      const name = `${run.shape} ${METHOD_LABEL[run.method]}`;
      cases.push(await compareWithPyTorch({ ...run, name, dir, rounds: quick ? 1 : run.rounds, warmup: 2, log }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { torch: probe.torch, blas: probe.blas, threads: 1, cases };
}

/** --only pytorch: the comparison rerun into the last full results of this backend. */
async function onlyPytorch(): Promise<void> {
  await initNodeBackend();
  if (onlyCase !== null) {
    await pytorchComparison();
    return;
  }
  const file = path.join(here, 'results', `node-${tf.getBackend()}${quick ? '-quick' : ''}.json`);
  if (!existsSync(file)) throw new Error(`--only pytorch updates ${file}; run the whole bench once first`);
  const { targets: _, ...previous } = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
  const results = withTargets({ ...previous, pytorch: await pytorchComparison() });
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  log('');
  log(resultsMarkdown(results));
  if (!quick) regenerateReadme();
}

async function main(): Promise<void> {
  const gradients = backendArg === 'cpu' ? null : await gradientCheck('cpu', initNodeBackend, log);
  if (gradients) {
    const worst = Math.max(...Object.values(gradients.maxAbsDiff));
    if (!(worst <= gradients.tolerance))
      throw new Error(`wasm gradients differ from cpu by ${worst} > ${gradients.tolerance}`);
  } else {
    await tf.setBackend('cpu');
  }
  const backend = tf.getBackend();
  log(`backend ${await describeBackend()}`);
  const matmul = await matmulFlopsPerSec(quick ? 512 : 1024);
  log(`backend ${backend}: large matmul ${(matmul / 1e9).toFixed(2)} GFLOP/s`);

  const memoryBackend = backend === 'cpu' ? undefined : 'cpu';
  const steps = quick ? { warmup: 1, timed: 2 } : { warmup: 2, timed: 7 };
  const profiles: Record<string, Record<string, KernelSummary>> = {};
  const onProfile = (shape: string) =>
    profile
      ? (method: string, info: ProfileInfo) => {
          (profiles[shape] ??= {})[method] = kernelSummary(info);
        }
      : undefined;
  const def = defaultModelConfig();
  const weightsCfg: ModelConfig = quick ? { ...WEIGHTS_DOMINATED, numLayers: 2, vocabSize: 4096 } : WEIGHTS_DOMINATED;
  const shapes: ShapeResult[] = [];
  shapes.push(
    await compareMethods({
      shape: 'weights-dominated',
      description: describe(weightsCfg),
      config: weightsCfg,
      batchSize: 1,
      seqLen: 128,
      loraRank: 8,
      seed: 0,
      matmulFlopsPerSec: matmul,
      memoryBackend,
      ...steps,
      log,
      onProfile: onProfile('weights-dominated'),
    }),
  );
  shapes.push(
    await compareMethods({
      shape: 'activation-dominated',
      description: `${describe(def.config)} (${def.source})`,
      config: def.config,
      batchSize: quick ? 4 : 16,
      seqLen: 128,
      loraRank: 8,
      seed: 0,
      matmulFlopsPerSec: matmul,
      memoryBackend,
      ...steps,
      log,
      onProfile: onProfile('activation-dominated'),
    }),
  );
  for (const s of shapes) {
    const r = shapeRatios(s);
    log(
      `${s.shape}: S²FT/full time ${r.timeVsFull.toFixed(3)} memory ${r.memoryVsFull.toFixed(3)}; ` +
        `S²FT/LoRA time ${r.timeVsLora.toFixed(3)} memory ${r.memoryVsLora.toFixed(3)}`,
    );
  }

  const switching: SwitchPoint[] = [];
  for (const D of quick ? [256, 512] : [256, 512, 1024, 2048, 4096]) {
    const p = await switchAt(D, 16, quick ? 1 : 3);
    log(
      `switch hidden ${D}: S²FT ${p.s2ftMs.toFixed(1)} ms, LoRA ${p.loraMs.toFixed(1)} ms, ratio ${p.ratio.toFixed(3)}`,
    );
    switching.push(p);
  }
  const serving: ServingPoint[] = [];
  for (const n of quick ? [2] : [1, 2, 4, 8]) {
    const p = await servingAt(def.config, n, 64, 8, quick ? 1 : 3);
    log(
      `serving ${n} adapters: base ${p.baseTokensPerSec.toFixed(0)}, S²FT ${p.s2ftTokensPerSec.toFixed(0)}, LoRA ${p.loraTokensPerSec.toFixed(0)} tokens/s`,
    );
    serving.push(p);
  }

  const name = `node-${backend}${quick ? '-quick' : ''}`;
  const results: BenchResults = withTargets({
    name,
    machine: {
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      node: process.versions.node,
      browser: null,
      backend,
      date: new Date().toISOString(),
    },
    quick,
    gradientCheck: gradients,
    matmulFlopsPerSec: matmul,
    shapes,
    switching,
    serving,
    pytorch: backend === 'wasm' ? await pytorchComparison() : null,
  });
  const dir = path.join(here, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(path.join(dir, `${name}-methods.svg`), methodsChart(results));
  if (switching.length > 0) {
    writeFileSync(
      path.join(dir, `${name}-switch.svg`),
      logLineChart(
        `Adapter switch time, ${backend}`,
        [
          { name: 'S²FT switch (servingWeights.ts)', points: switching.map((p) => [p.hidden, p.s2ftMs]) },
          { name: 'LoRA merge switch', points: switching.map((p) => [p.hidden, p.loraMs]) },
        ],
        'hidden size',
        'ms',
      ),
    );
  }
  if (profile)
    writeFileSync(
      path.join(dir, `profile-${backend}${quick ? '-quick' : ''}.json`),
      `${JSON.stringify(profiles, null, 2)}\n`,
    );
  log('');
  log(resultsMarkdown(results));
  if (!quick) regenerateReadme();
}

await (only === 'pytorch' ? onlyPytorch() : main());
