import { expect, test } from './fixtures';
import { E2E_SETTINGS, openStudio } from './studio';

test('a reload in the middle of a run offers to resume it from its last checkpoint', async ({ page }) => {
  test.setTimeout(300_000);
  const studio = await openStudio(page, { ...E2E_SETTINGS, sampleEvery: 0, evalEvery: 0 });
  await studio.modelLoaded();
  await studio.dataLoaded();
  await studio.chooseUnits({ strategy: 'random', heads: 1, channels: 8 });
  await studio.startTraining({ method: 's2ft', steps: 24 });
  // Pause and resume work from the keyboard.
  await studio.runControl('Pause', /^paused$/);
  const pausedAt = Number(await page.getByTestId('train-run').getAttribute('data-steps'));
  await page.waitForTimeout(1_000);
  expect(Number(await page.getByTestId('train-run').getAttribute('data-steps'))).toBe(pausedAt);
  await studio.runControl('Resume', /^training$/);
  // Checkpoints are written every 6 steps for a 24-step run; reload once one is surely on disk.
  await expect(page.getByTestId('train-run')).toHaveAttribute('data-steps', /^(1[3-9]|2\d)$/, { timeout: 170_000 });
  await page.reload();

  const banner = page.getByTestId('resume-banner');
  await expect(banner).toContainText(/stopped at step (6|12|18) of 24/, { timeout: 120_000 });
  await banner.getByRole('button', { name: /Resume from step/ }).click();
  const run = await studio.trainingResult();
  console.log(
    `resumed run: ${run.phase} after ${run.steps} steps, loss ${run.firstLoss.toFixed(4)} -> ${run.lastLoss.toFixed(4)}`,
  );
  expect(run.phase).toBe('done');
  expect(run.steps).toBe(24);
  await expect(banner).toHaveCount(0);
});
