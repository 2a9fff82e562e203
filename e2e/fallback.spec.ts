import { CHROMIUM_ARGS, findChromium } from '../scripts/chromium.mjs';
import { expect, test } from './fixtures';
import { openStudio } from './studio';

// Without --enable-unsafe-webgpu, Chrome on Linux offers no WebGPU adapter: the studio must say
// so in plain words and still train, on WebGL.
test.use({
  launchOptions: {
    executablePath: findChromium().path ?? undefined,
    args: CHROMIUM_ARGS.filter((arg) => arg !== '--enable-unsafe-webgpu'),
  },
});

test('falls back to WebGL with a visible reason when WebGPU is unavailable', async ({ page }) => {
  const studio = await openStudio(page);
  expect(await studio.backend()).toBe('WebGL');
  await expect(page.getByTestId('backend-note')).toContainText('Running on WebGL because WebGPU is not available');
  expect(await studio.backendDetails()).toContain('Not WebGPU:');

  const run = await studio.smokeTrain(5);
  expect(run.backend).toBe('webgl');
  expect(run.losses.at(-1)!).toBeLessThan(run.losses[0]);
});
