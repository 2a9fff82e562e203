import { expect, test } from './fixtures';
import { openStudio } from './studio';

test('trains a small model on WebGPU in the worker while the page stays responsive', async ({ page }) => {
  const studio = await openStudio(page);
  expect(await studio.backend()).toBe('WebGPU');
  const details = await studio.backendDetails();
  console.log(`backend details:\n${details}`);
  expect(details).toContain('GPU adapter:');

  const watch = await studio.watchMainThread();
  const started = Date.now();
  await studio.startSmokeTrain(20);
  // While the worker trains, a person can still move around the studio (how quickly is measured by
  // the main thread's longest stall below, not by timing clicks on a shared machine).
  for (const panel of ['Model', 'Data', 'Selection', 'Compare', 'Adapters']) await studio.openPanel(panel);
  const run = await studio.smokeTrainResult();
  const { maxStallMs, ticks } = await watch.stop();
  console.log(
    `smoke run: ${run.losses.length} steps on ${run.backend} in ${Date.now() - started} ms; ` +
      `loss ${run.losses[0].toFixed(4)} -> ${run.losses.at(-1)?.toFixed(4)}; main thread max stall ${maxStallMs.toFixed(0)} ms over ${ticks} ticks`,
  );

  expect(run.backend).toBe('webgpu');
  expect(run.losses).toHaveLength(20);
  expect(run.losses.every(Number.isFinite)).toBe(true);
  expect(run.losses.at(-1)!).toBeLessThan(0.5 * run.losses[0]);
  expect(ticks).toBeGreaterThan(10);
  // Loose, as in story.spec.ts: SwiftShader and the worker share two CPU cores with the page.
  expect(maxStallMs).toBeLessThan(2_000);
});

test('the panels are tabs a keyboard can drive', async ({ page }) => {
  await openStudio(page);
  const tabs = page.getByRole('tablist', { name: 'Studio panels' }).getByRole('tab');
  await expect(tabs).toHaveText(['Model', 'Data', 'Selection', 'Train', 'Compare', 'Adapters']);
  await page.getByRole('tab', { name: 'Model' }).focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('tab', { name: 'Data' })).toBeFocused();
  await expect(page.getByRole('tabpanel', { name: 'Data' })).toBeVisible();
  await page.keyboard.press('End');
  await expect(page.getByRole('tabpanel', { name: 'Adapters' })).toBeVisible();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('tabpanel', { name: 'Model' })).toBeVisible();
});
