import { CHROMIUM_ARGS, findChromium } from '../scripts/chromium.mjs';
import { expect, test } from './fixtures';
import { openStudio } from './studio';
import { emulateWorkerCores } from './workerCores';

// Without WebGPU and WebGL (no GPU process: --disable-gpu, and no software GL either) the studio
// trains on the CPU through WebAssembly with SIMD, not in plain JavaScript; the page is cross-origin
// isolated (vite.config.ts), so tfjs's threaded build runs, on 2 threads when the worker sees 4
// logical cores (workerCores.ts says why they are emulated). Served without the isolation headers,
// as a static host that does not send them would, or with a threaded build that fails to start,
// the same page trains on one thread and says why.
test.use({
  launchOptions: {
    executablePath: findChromium().path ?? undefined,
    args: [
      ...CHROMIUM_ARGS.filter((arg) => arg !== '--enable-unsafe-webgpu'),
      '--disable-gpu',
      '--disable-software-rasterizer',
    ],
  },
});

test('falls back to WebAssembly with SIMD when neither WebGPU nor WebGL is available', async ({ page }) => {
  await emulateWorkerCores(page, 4);
  const studio = await openStudio(page);
  expect(await studio.backend()).toBe('CPU (WebAssembly)');
  await expect(page.getByTestId('backend-note')).toContainText(
    'Running on CPU (WebAssembly) because WebGPU is not available',
  );
  const details = await studio.backendDetails();
  expect(details).toContain('Not WebGPU:');
  expect(details).toContain('Not WebGL:');
  expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
  expect(details).toContain('WebAssembly with SIMD on 2 threads.');

  const run = await studio.smokeTrain(5);
  expect(run.backend).toBe('wasm');
  expect(run.losses.at(-1)!).toBeLessThan(run.losses[0]);
});

test('without the isolation headers the fallback runs on one thread and still trains', async ({ page }) => {
  await emulateWorkerCores(page, 4); // enough for 2 threads: only the missing isolation holds it to 1
  await page.route('**/*', async (route) => {
    const response = await route.fetch();
    const headers = { ...response.headers() };
    delete headers['cross-origin-opener-policy'];
    delete headers['cross-origin-embedder-policy'];
    await route.fulfill({ response, headers });
  });
  const studio = await openStudio(page);
  expect(await studio.backend()).toBe('CPU (WebAssembly)');
  expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(false);
  expect(await studio.backendDetails()).toContain(
    'WebAssembly with SIMD on 1 thread, because the page is not cross-origin isolated',
  );
  const run = await studio.smokeTrain(3);
  expect(run.backend).toBe('wasm');
  expect(run.losses.at(-1)!).toBeLessThan(run.losses[0]);
});

test('a threaded build that fails to start leaves the fallback on one thread, still training', async ({ page }) => {
  await emulateWorkerCores(page, 4);
  // The threaded binary does not arrive (a host that lost the file, a proxy that blocks it).
  let blocked = 0;
  await page.route(/threaded-simd[^/]*\.wasm$/, async (route) => {
    blocked++;
    await route.abort();
  });
  const studio = await openStudio(page);
  expect(await studio.backend()).toBe('CPU (WebAssembly)');
  expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
  expect(blocked).toBeGreaterThan(0);
  expect(await studio.backendDetails()).toContain(
    'WebAssembly with SIMD on 1 thread, because the threaded build failed to start',
  );
  const run = await studio.smokeTrain(3);
  expect(run.backend).toBe('wasm');
  expect(run.losses.at(-1)!).toBeLessThan(run.losses[0]);
});
