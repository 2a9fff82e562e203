/**
 * The benchmark page: the same comparison as `npm run bench`, in Chromium on WebGPU or WebGL
 * (?backend=webgpu|webgl, &quick=1 for a sanity run). The results object ends up on
 * `window.benchResult` (or the error on `window.benchError`), where bench/browser.ts reads it.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import type { ModelConfig } from '../../src/core/model/types';
import { gradientCheck } from '../lib/gradcheck';
import { compareMethods, matmulFlopsPerSec } from '../lib/compare';
import { withTargets, type BenchResults } from '../lib/results';
import type { ShapeResult } from '../lib/stats';
import { servingAt, switchAt, type ServingPoint, type SwitchPoint } from '../lib/switching';

declare global {
  interface Window {
    benchResult?: BenchResults;
    benchError?: string;
    benchConfigs?: Record<string, ModelConfig>;
  }
}

const params = new URLSearchParams(location.search);
const backendName = params.get('backend') ?? 'webgpu';
const quick = params.has('quick');
const logEl = document.getElementById('log')!;
const log = (line: string) => {
  logEl.textContent += `${line}\n`;
  console.log(line);
};

async function run(): Promise<BenchResults> {
  const configs = window.benchConfigs;
  if (!configs) throw new Error('the driver did not pass the model configs (window.benchConfigs)');
  const gradients = await gradientCheck(
    'cpu',
    async () => {
      if (!(await tf.setBackend(backendName)))
        throw new Error(`backend ${backendName} is not available in this browser`);
      await tf.ready();
      return tf.getBackend();
    },
    log,
    1e-3,
  );
  const matmul = await matmulFlopsPerSec(quick ? 256 : 512);
  log(`${backendName}: large matmul ${(matmul / 1e9).toFixed(2)} GFLOP/s`);
  const steps = quick ? { warmup: 1, timed: 1 } : { warmup: 1, timed: 3 };
  const shapes: ShapeResult[] = [];
  // SwiftShader runs WebGPU at CPU speed: the activation-dominated shape uses seq 32 here (batch 16).
  for (const [shape, B, T] of [
    ['weights-dominated', 1, quick ? 32 : 128],
    ['activation-dominated', quick ? 2 : 16, 32],
  ] as const) {
    const config = configs[shape];
    shapes.push(
      await compareMethods({
        shape,
        description: `hidden ${config.hiddenSize}, ${config.numLayers} layers, vocab ${config.vocabSize}`,
        config,
        batchSize: B,
        seqLen: T,
        loraRank: 8,
        seed: 0,
        matmulFlopsPerSec: matmul,
        ...steps,
        log,
      }),
    );
  }
  const switching: SwitchPoint[] = [];
  for (const D of quick ? [256] : [256, 512, 1024, 2048]) {
    const p = await switchAt(D, 16, quick ? 1 : 3);
    log(`switch hidden ${D}: S²FT ${p.s2ftMs.toFixed(1)} ms, LoRA ${p.loraMs.toFixed(1)} ms`);
    switching.push(p);
  }
  const serving: ServingPoint[] = [];
  for (const n of quick ? [2] : [1, 4])
    serving.push(await servingAt(configs['activation-dominated'], n, 32, 8, quick ? 1 : 2));
  return withTargets({
    name: `browser-${tf.getBackend()}${quick ? '-quick' : ''}`,
    machine: {
      os: navigator.platform,
      cpus: navigator.hardwareConcurrency,
      cpuModel: 'unknown',
      node: null,
      browser: navigator.userAgent,
      backend: tf.getBackend(),
      date: new Date().toISOString(),
    },
    quick,
    gradientCheck: gradients,
    matmulFlopsPerSec: matmul,
    shapes,
    switching,
    serving,
  });
}

// The driver sets benchConfigs before it navigates here; wait for it a moment.
addEventListener('load', () => {
  run().then(
    (r) => {
      window.benchResult = r;
      log('done');
    },
    (e: unknown) => {
      window.benchError = e instanceof Error ? `${e.message}\n${e.stack}` : String(e);
      log(`error: ${window.benchError}`);
    },
  );
});
