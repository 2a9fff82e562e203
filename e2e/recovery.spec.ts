/**
 * A lost GPU device and a crashed worker: the studio restarts the worker, keeps the run's curves,
 * and continues the run from its last IndexedDB checkpoint (by itself after a lost device; on the
 * person's click after a crash, which might repeat).
 */
import type { Page, Worker } from '@playwright/test';
import { expect, test } from './fixtures';
import { E2E_SETTINGS, openStudio } from './studio';

test.use({ expectedErrors: [/simulated crash/, /device (is |was )?(lost|destroyed)/i] });

function trainingWorker(page: Page): Worker {
  const worker = page.workers().find((w) => w.url().includes('training'));
  if (!worker)
    throw new Error(
      `no training worker among ${page
        .workers()
        .map((w) => w.url())
        .join(', ')}`,
    );
  return worker;
}

async function startRun(page: Page, steps: number, reached: RegExp) {
  const studio = await openStudio(page, { ...E2E_SETTINGS, sampleEvery: 0, evalEvery: 0 });
  await studio.modelLoaded();
  await studio.dataLoaded();
  expect(await studio.backend()).toBe('WebGPU');
  await studio.chooseUnits({ strategy: 'random', heads: 1, channels: 8 });
  // A checkpoint every 6 steps for a 24-step run.
  await studio.startTraining({ method: 's2ft', steps });
  await expect(page.getByTestId('train-run')).toHaveAttribute('data-steps', reached, { timeout: 170_000 });
  return studio;
}

test('a lost GPU device restarts the worker and the run continues from its last checkpoint', async ({ page }) => {
  test.setTimeout(360_000);
  await startRun(page, 24, /^(1[3-9]|2[0-3])$/);
  await trainingWorker(page).evaluate(() => (self as unknown as { loseGpuDevice(): void }).loseGpuDevice());

  const notice = page.getByTestId('worker-notice');
  await expect(notice).toContainText(/GPU device was lost/, { timeout: 60_000 });
  await expect(notice).toContainText(/continues from its checkpoint at step (12|18)/, { timeout: 120_000 });
  const run = page.getByTestId('train-run');
  await expect(run).toHaveAttribute('data-phase', 'done', { timeout: 170_000 });
  expect(Number(await run.getAttribute('data-steps'))).toBe(24);
  console.log(
    `after the lost device: ${await notice.innerText()}; loss ${await run.getAttribute('data-first-loss')} -> ${await run.getAttribute('data-last-loss')}`,
  );
  expect(await page.getByTestId('backend-badge').innerText()).toBe('WebGPU');
});

test('a crashed worker shows the error, keeps the run, and offers to continue it', async ({ page }) => {
  test.setTimeout(360_000);
  await startRun(page, 24, /^([7-9]|10)$/);
  await trainingWorker(page).evaluate(() => {
    setTimeout(() => {
      throw new Error('simulated crash');
    }, 0);
  });

  const run = page.getByTestId('train-run');
  await expect(run).toHaveAttribute('data-phase', 'error', { timeout: 60_000 });
  await expect(run.getByRole('alert')).toContainText('simulated crash');
  expect(Number(await run.getAttribute('data-steps')), 'the curves so far stay on screen').toBeGreaterThanOrEqual(7);
  const notice = page.getByTestId('worker-notice');
  await expect(notice).toContainText(/crashed: .*simulated crash.*can continue from step 6/, { timeout: 120_000 });

  const banner = page.getByTestId('resume-banner');
  await banner.getByRole('button', { name: 'Resume from step 6' }).click();
  await expect(run).toHaveAttribute('data-phase', 'done', { timeout: 170_000 });
  expect(Number(await run.getAttribute('data-steps'))).toBe(24);
});
