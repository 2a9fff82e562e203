/**
 * `npm run bench:browser` — the comparison in Chromium on WebGPU and WebGL.
 *   npm run bench:browser [-- --quick] [-- --backends webgpu,webgl]
 * Builds the bench page (bench/browser/, bench/vite.config.ts) into tmp/bench-browser, serves it
 * with `vite preview`, drives headless Chromium (scripts/chromium.mjs) with Playwright, and writes
 * bench/results/browser-<backend>[-quick].json and its plot; full runs regenerate the README.
 * Chromium without a hardware GPU runs WebGPU on SwiftShader (CPU speed): the browser shapes are
 * smaller than the Node ones (2 layers, vocab 4k for the weights-dominated model).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { build, preview } from 'vite';
import { CHROMIUM_ARGS, findChromium } from '../scripts/chromium.mjs';
import { defaultModelConfig, WEIGHTS_DOMINATED } from './lib/configs';
import { methodsChart, resultsMarkdown, type BenchResults } from './lib/results';
import { regenerateReadme } from './readme';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const backends = (argv.includes('--backends') ? argv[argv.indexOf('--backends') + 1] : 'webgpu,webgl').split(',');
const here = path.dirname(fileURLToPath(import.meta.url));
const configFile = path.join(here, 'vite.config.ts');

const found = findChromium();
if (found.path === null) throw new Error(`${found.problem} Run: node scripts/ensure-chromium.mjs`);

await build({ configFile, root: path.join(here, 'browser') });
const server = await preview({ configFile, root: path.join(here, 'browser') });
const url = server.resolvedUrls?.local[0];
if (!url) throw new Error('vite preview did not report a local URL');
const configs = {
  'weights-dominated': { ...WEIGHTS_DOMINATED, numLayers: 2, vocabSize: 4096 },
  'activation-dominated': defaultModelConfig().config,
};
const browser = await chromium.launch({ executablePath: found.path, args: CHROMIUM_ARGS, headless: true });
try {
  for (const backend of backends) {
    const page = await browser.newPage();
    page.on('console', (m) => console.log(`[${backend}] ${m.text()}`));
    await page.addInitScript((c) => {
      (window as unknown as { benchConfigs: unknown }).benchConfigs = c;
    }, configs);
    await page.goto(`${url}?backend=${backend}${quick ? '&quick=1' : ''}`);
    await page.waitForFunction(() => 'benchResult' in window || 'benchError' in window, undefined, {
      timeout: 0,
      polling: 1000,
    });
    const error = await page.evaluate(() => window.benchError);
    if (error) {
      console.error(`${backend}: ${error}`);
      await page.close();
      continue;
    }
    const results = (await page.evaluate(() => window.benchResult)) as BenchResults;
    const dir = path.join(here, 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `${results.name}.json`), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(path.join(dir, `${results.name}-methods.svg`), methodsChart(results));
    console.log(resultsMarkdown(results));
    await page.close();
  }
} finally {
  await browser.close();
  await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
}
if (!quick) regenerateReadme();
