/**
 * Drives the studio the way a person does, so specs read like user stories:
 * `const studio = await openStudio(page); await studio.smokeTrain(20)`.
 */
import { expect, type Page } from '@playwright/test';

export interface SmokeRun {
  backend: string;
  losses: number[];
}

export interface MainThreadWatch {
  /** Stops watching; the longest gap between 10 ms timer ticks, i.e. the worst main-thread stall. */
  stop(): Promise<{ maxStallMs: number; ticks: number }>;
}

export async function openStudio(page: Page) {
  await page.goto('/');
  const badge = page.getByTestId('backend-badge');
  await expect(badge).not.toHaveText('Starting…');

  const studio = {
    page,

    /** The badge text: "WebGPU", "WebGL", "CPU" or "No backend". */
    backend: () => badge.innerText(),

    /** The badge's tooltip: adapter description, limits, refused backends. */
    backendDetails: async () => (await badge.getAttribute('title')) ?? '',

    async openPanel(name: string) {
      const tab = page.getByRole('tab', { name });
      await tab.click();
      await expect(tab).toHaveAttribute('aria-selected', 'true');
      await expect(page.getByRole('tabpanel', { name })).toBeVisible();
    },

    /** Clicks "Run smoke test" and returns as soon as training is under way. */
    async startSmokeTrain(steps: number) {
      await studio.openPanel('Train');
      await page.getByLabel('Steps').fill(String(steps));
      await page.getByRole('button', { name: 'Run smoke test' }).click();
      await expect(page.getByTestId('smoke-status')).toHaveAttribute('data-state', 'running');
    },

    /** Waits for the smoke test to finish and reads what it reported. */
    async smokeTrainResult(): Promise<SmokeRun> {
      await studio.openPanel('Train');
      await expect(page.getByTestId('smoke-status')).toHaveAttribute('data-state', 'done', { timeout: 150_000 });
      const list = page.getByTestId('smoke-losses');
      const losses = await list.locator('li').evaluateAll((items) => items.map((li) => Number(li.getAttribute('data-loss'))));
      return { backend: (await list.getAttribute('data-backend')) ?? '', losses };
    },

    async smokeTrain(steps: number): Promise<SmokeRun> {
      await studio.startSmokeTrain(steps);
      return studio.smokeTrainResult();
    },

    /** Starts measuring how long the main thread is ever blocked. */
    async watchMainThread(): Promise<MainThreadWatch> {
      const handle = await page.evaluateHandle(() => {
        const watch = { maxStallMs: 0, ticks: 0, last: performance.now(), timer: 0 };
        watch.timer = window.setInterval(() => {
          const now = performance.now();
          watch.maxStallMs = Math.max(watch.maxStallMs, now - watch.last);
          watch.last = now;
          watch.ticks++;
        }, 10);
        return watch;
      });
      return {
        async stop() {
          const result = await handle.evaluate((watch) => {
            clearInterval(watch.timer);
            return { maxStallMs: watch.maxStallMs, ticks: watch.ticks };
          });
          await handle.dispose();
          return result;
        },
      };
    },
  };
  return studio;
}

export type Studio = Awaited<ReturnType<typeof openStudio>>;
