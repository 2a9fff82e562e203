/**
 * Screenshots of every panel for the README (docs/studio-*.png). Not part of the suite: run with
 * `SCREENSHOTS=1 npx playwright test e2e/screenshots.spec.ts` after `npx vite build`
 * (SCREENSHOT_DIR and SCREENSHOT_DATASET change where they go and which data is shown).
 */
import { expect, test } from './fixtures';
import { openStudio } from './studio';

test.skip(!process.env.SCREENSHOTS, 'set SCREENSHOTS=1 to write docs/studio-*.png');
test.use({ viewport: { width: 1280, height: 900 } });

test('screenshots of each panel', async ({ page }) => {
  test.setTimeout(1_200_000);
  const dir = process.env.SCREENSHOT_DIR ?? 'docs';
  const dataset = process.env.SCREENSHOT_DATASET ?? 'toy-tasks/train';
  const studio = await openStudio(page, {
    batchSize: 4,
    seqLen: 64,
    evalEvery: 10,
    sampleEvery: 20,
    sampleTokens: 12,
    warmup: 2,
    lr: 5e-3,
    dataset,
  });
  const shoot = async (panel: string, prepare?: () => Promise<void>) => {
    await studio.openPanel(panel);
    await prepare?.();
    await page.screenshot({ path: `${dir}/studio-${panel.toLowerCase()}.png`, fullPage: true });
  };
  await studio.modelLoaded();
  await shoot('Model');
  await studio.dataLoaded();
  await shoot('Data');
  await studio.chooseUnits({ strategy: 'weight', heads: 1, channels: 32 });
  await studio.selectionViews();
  await shoot('Selection', () =>
    page
      .getByTestId('view-o_proj-permuted')
      .locator('canvas')
      .hover({ position: { x: 20, y: 20 } }),
  );
  await studio.train({ method: 's2ft', steps: 20, timeoutMs: 400_000 });
  await shoot('Train');
  await studio.train({ method: 'lora', steps: 20, timeoutMs: 400_000 });
  await shoot('Compare');
  await studio.useAdapter(
    (await page.getByTestId('adapter-table').locator('tbody tr').first().getAttribute('data-adapter')) ?? undefined,
  );
  const prompt = await page.getByTestId('samples').locator('.sample-prompt').first().innerText();
  await studio.generate(prompt, 12);
  await expect(page.getByTestId('output-adapter')).toBeVisible();
  await shoot('Adapters');
});
