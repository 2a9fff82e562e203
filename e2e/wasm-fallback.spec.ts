import { CHROMIUM_ARGS, findChromium } from '../scripts/chromium.mjs';
import { expect, test } from './fixtures';
import { openStudio } from './studio';

// Without WebGPU and WebGL (no GPU process: --disable-gpu, and no software GL either) the studio
// trains on the CPU through WebAssembly with SIMD, not in plain JavaScript.
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
  const studio = await openStudio(page);
  expect(await studio.backend()).toBe('CPU (WebAssembly)');
  await expect(page.getByTestId('backend-note')).toContainText(
    'Running on CPU (WebAssembly) because WebGPU is not available',
  );
  const details = await studio.backendDetails();
  expect(details).toContain('Not WebGPU:');
  expect(details).toContain('Not WebGL:');
  expect(details).toContain('WebAssembly with SIMD on 1 thread.');

  const run = await studio.smokeTrain(5);
  expect(run.backend).toBe('wasm');
  expect(run.losses.at(-1)!).toBeLessThan(run.losses[0]);
});
