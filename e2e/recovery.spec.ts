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
  const studio = await openStudio(page, E2E_SETTINGS);
  await studio.modelLoaded();
  await studio.dataLoaded();
  expect(await studio.backend()).toBe('WebGPU');
  await studio.chooseUnits({ strategy: 'random', heads: 1, channels: 8 });
  // A checkpoint every 3 steps for a 12-step run.
  await studio.startTraining({ method: 's2ft', steps });
  await expect(page.getByTestId('train-run')).toHaveAttribute('data-steps', reached, { timeout: RUN_MS });
  return studio;
}

// Measured under a load of about 10 on 2 cores: up to 100 s from Start to the first step (the
// step-0 evaluation and kernel compilation), then about 5 s a step; a restart adds the model load.
// Every wait below is over 3× that.
const RUN_MS = 420_000;

test('a lost GPU device restarts the worker and the run continues from its last checkpoint', async ({ page }) => {
  test.setTimeout(3 * RUN_MS);
  await startRun(page, 12, /^([7-9]|1[01])$/);
  await trainingWorker(page).evaluate(() => (self as unknown as { loseGpuDevice(): void }).loseGpuDevice());

  const notice = page.getByTestId('worker-notice');
  await expect(notice).toContainText(/GPU device was lost/, { timeout: 60_000 });
  await expect(notice).toContainText(/continues from its checkpoint at step (6|9)/, { timeout: RUN_MS });
  const run = page.getByTestId('train-run');
  await expect(run).toHaveAttribute('data-phase', 'done', { timeout: RUN_MS });
  expect(Number(await run.getAttribute('data-steps'))).toBe(12);
  console.log(
    `after the lost device: ${await notice.innerText()}; loss ${await run.getAttribute('data-first-loss')} -> ${await run.getAttribute('data-last-loss')}`,
  );
  expect(await page.getByTestId('backend-badge').innerText()).toBe('WebGPU');
});

test('a crashed worker shows the error, keeps the run, and offers to continue it', async ({ page }) => {
  test.setTimeout(3 * RUN_MS);
  await startRun(page, 12, /^[4-5]$/);
  await trainingWorker(page).evaluate(() => {
    setTimeout(() => {
      throw new Error('simulated crash');
    }, 0);
  });

  const run = page.getByTestId('train-run');
  await expect(run).toHaveAttribute('data-phase', 'error', { timeout: 60_000 });
  await expect(run.getByRole('alert')).toContainText('simulated crash');
  expect(Number(await run.getAttribute('data-steps')), 'the curves so far stay on screen').toBeGreaterThanOrEqual(4);
  const notice = page.getByTestId('worker-notice');
  await expect(notice).toContainText(/crashed: .*simulated crash.*can continue from step 3/, { timeout: RUN_MS });

  const banner = page.getByTestId('resume-banner');
  await banner.getByRole('button', { name: 'Resume from step 3' }).click();
  await expect(run).toHaveAttribute('data-phase', 'done', { timeout: RUN_MS });
  expect(Number(await run.getAttribute('data-steps'))).toBe(12);
});
