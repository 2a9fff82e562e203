import { expect, test } from './fixtures';
import { E2E_SETTINGS, openStudio } from './studio';

// Measured under a load of about 10 on 2 cores: up to 100 s from Start to the first step, then
// about 5 s a step; every wait below is over 3× that.
const RUN_MS = 420_000;

test('a reload in the middle of a run offers to resume it from its last checkpoint', async ({ page }) => {
  test.setTimeout(3 * RUN_MS);
  const studio = await openStudio(page, E2E_SETTINGS);
  await studio.modelLoaded();
  await studio.dataLoaded();
  await studio.chooseUnits({ strategy: 'random', heads: 1, channels: 8 });
  await studio.startTraining({ method: 's2ft', steps: 12 });
  // Pause and resume work from the keyboard.
  await studio.runControl('Pause', /^paused$/);
  const pausedAt = Number(await page.getByTestId('train-run').getAttribute('data-steps'));
  await page.waitForTimeout(1_000);
  expect(Number(await page.getByTestId('train-run').getAttribute('data-steps'))).toBe(pausedAt);
  await studio.runControl('Resume', /^training$/);
  // Checkpoints are written every 3 steps for a 12-step run; reload once one is surely on disk.
  await expect(page.getByTestId('train-run')).toHaveAttribute('data-steps', /^([7-9]|1[01])$/, { timeout: RUN_MS });
  await page.reload();

  const banner = page.getByTestId('resume-banner');
  await expect(banner).toContainText(/stopped at step (3|6|9) of 12/, { timeout: RUN_MS });
  await banner.getByRole('button', { name: /Resume from step/ }).click();
  const run = await studio.trainingResult(RUN_MS);
  console.log(
    `resumed run: ${run.phase} after ${run.steps} steps, loss ${run.firstLoss.toFixed(4)} -> ${run.lastLoss.toFixed(4)}`,
  );
  expect(run.phase).toBe('done');
  expect(run.steps).toBe(12);
  await expect(banner).toHaveCount(0);
});
