/**
 * What hashing every weight (src/core/io/fingerprint.ts) costs while a checkpoint loads, for the
 * Qwen2.5-0.5B shape: random BF16 weights written by scripts/realShapes/ into test-checkpoints/
 * (absent ones are written first), loaded with loadCheckpoint on the tfjs cpu backend. The time
 * spent inside the fingerprinter (xxh64 of every float32 value plus the old kind's sampler) is
 * summed during the load itself and printed against the whole load.
 *   npx tsx bench/experiments/fingerprintCost.ts [layers]     (default: all 24)
 *   npx tsx bench/experiments/fingerprintCost.ts [layers] --browser
 * With --browser the same loads run in headless Chromium (bench/browser/fingerprint.html), from
 * File objects picked in a file input as the studio's Model panel gets them, on WebGPU.
 * Fewer layers keep the real per-tensor sizes (embedding [151936, 896], each layer's linears)
 * and only drop whole layers.
 */
import { existsSync, readdirSync } from 'node:fs';
import path, { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { build, preview } from 'vite';
import * as tf from '@tensorflow/tfjs';
import { loadCheckpoint } from '../../src/core/io/checkpoint';
import { nodeDirectorySource } from '../../src/core/io/nodeFiles';
import { disposeWeights } from '../../src/core/model/init';
import { CHECKPOINTS_DIR, QWEN25_05B, withLayers } from '../../scripts/realShapes/shapes';
import { writeRealShape } from '../../scripts/realShapes/write';
import { CHROMIUM_ARGS, findChromium } from '../../scripts/chromium.mjs';
import { costLine, timeFingerprinter } from '../lib/fingerprintTiming';

const argv = process.argv.slice(2);
const inBrowser = argv.includes('--browser');
const layers = Number(argv.find((a) => !a.startsWith('--')) ?? QWEN25_05B.config.num_hidden_layers);
const shape = layers === QWEN25_05B.config.num_hidden_layers ? QWEN25_05B : withLayers(QWEN25_05B, layers);
const dir = join(CHECKPOINTS_DIR, shape.name);
if (!existsSync(join(dir, 'config.json'))) {
  console.log(`writing ${dir} (random BF16 weights) ...`);
  await writeRealShape(shape, dir);
}
if (inBrowser) await inChromium(dir);
else await inNode(dir);

async function inNode(dir: string): Promise<void> {
  await tf.setBackend('cpu');
  const timing = timeFingerprinter();
  const runs = 3;
  for (let run = 1; run <= runs; run++) {
    timing.reset();
    const started = performance.now();
    const loaded = await loadCheckpoint(await nodeDirectorySource(dir));
    const loadMs = performance.now() - started;
    disposeWeights(loaded.weights);
    console.log(costLine(`${shape.name} run ${run}/${runs}`, loadMs, timing, loaded.fingerprint));
  }
}

/** The bench page in headless Chromium, the folder's files picked in its file input. */
async function inChromium(dir: string): Promise<void> {
  const found = findChromium();
  if (found.path === null) throw new Error(`${found.problem} Run: node scripts/ensure-chromium.mjs`);
  const here = path.dirname(fileURLToPath(import.meta.url));
  const configFile = path.join(here, '..', 'vite.config.ts');
  const root = path.join(here, '..', 'browser');
  await build({ configFile, root });
  const server = await preview({ configFile, root });
  const browser = await chromium.launch({ executablePath: found.path, args: CHROMIUM_ARGS, headless: true });
  try {
    const page = await browser.newPage();
    await page.goto(`${server.resolvedUrls?.local[0]}fingerprint.html`);
    await page.locator('#files').setInputFiles(readdirSync(dir).map((f) => join(dir, f)));
    await page.waitForFunction(() => 'fingerprintResult' in window || 'fingerprintError' in window, undefined, {
      timeout: 0,
      polling: 1000,
    });
    const error = await page.evaluate(() => window.fingerprintError);
    if (error) throw new Error(error);
    for (const line of (await page.evaluate(() => window.fingerprintResult)) ?? [])
      console.log(`${shape.name} ${line}`);
  } finally {
    await browser.close();
    await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
  }
}
