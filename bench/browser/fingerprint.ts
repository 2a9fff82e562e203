/**
 * The fingerprint's cost in Chromium: the picked checkpoint files (File objects, as the studio's
 * Model panel gets them) loaded with loadCheckpoint on WebGPU, three times, with the time inside
 * the fingerprinter summed during each load (bench/lib/fingerprintTiming.ts). The lines end up on
 * `window.fingerprintResult` (or the error on `window.fingerprintError`) for
 * bench/experiments/fingerprintCost.ts --browser.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { loadCheckpoint } from '../../src/core/io/checkpoint';
import { fileListSource } from '../../src/core/io/fileSource';
import { disposeWeights } from '../../src/core/model/init';
import { costLine, timeFingerprinter } from '../lib/fingerprintTiming';

declare global {
  interface Window {
    fingerprintResult?: string[];
    fingerprintError?: string;
  }
}

const RUNS = 3;
const logEl = document.getElementById('log')!;

async function measure(files: File[]): Promise<string[]> {
  const backend = (await tf.setBackend('webgpu')) ? 'webgpu' : (await tf.setBackend('cpu'), 'cpu');
  await tf.ready();
  const timing = timeFingerprinter();
  const lines = [`Chromium ${navigator.userAgent.match(/Chrome\/[\d.]+/)?.[0] ?? ''}, tfjs ${backend}`];
  for (let run = 1; run <= RUNS; run++) {
    timing.reset();
    const started = performance.now();
    const loaded = await loadCheckpoint(fileListSource(files, 'checkpoint'));
    const loadMs = performance.now() - started;
    disposeWeights(loaded.weights);
    lines.push(costLine(`browser run ${run}/${RUNS}`, loadMs, timing, loaded.fingerprint));
    logEl.textContent = lines.join('\n');
  }
  return lines;
}

const input = document.getElementById('files') as HTMLInputElement;
input.addEventListener('change', () => {
  measure([...(input.files ?? [])]).then(
    (lines) => (window.fingerprintResult = lines),
    (e: unknown) => (window.fingerprintError = e instanceof Error ? e.message : String(e)),
  );
});
