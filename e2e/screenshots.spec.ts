/**
 * Screenshots of every panel for the README (docs/studio-*.png), taken from the studio's first run:
 * the defaults (src/app/settings.ts), the S²FT run a newcomer starts with one click, then a LoRA run
 * on the same settings for Compare, and the S²FT adapter in the playground. Not part of the suite:
 * run with `SCREENSHOTS=1 npx playwright test e2e/screenshots.spec.ts` after `npx vite build`
 * (SCREENSHOT_DIR changes where they go).
 */
import { expect, test } from './fixtures';
import { openStudio } from './studio';

test.skip(!process.env.SCREENSHOTS, 'set SCREENSHOTS=1 to write docs/studio-*.png');
test.use({ viewport: { width: 1280, height: 900 } });

const RUN_MS = 25 * 60_000;

test('screenshots of each panel, from the first run', async ({ page }) => {
  test.setTimeout(3 * RUN_MS);
  const dir = process.env.SCREENSHOT_DIR ?? 'docs';
  const studio = await openStudio(page);
  const shoot = async (panel: string, prepare?: () => Promise<void>) => {
    await studio.openPanel(panel);
    await prepare?.();
    await page.screenshot({ path: `${dir}/studio-${panel.toLowerCase()}.png`, fullPage: true });
  };
  await studio.modelLoaded();
  await shoot('Model');
  await studio.dataLoaded();
  await shoot('Data');
  const views = await studio.selectionViews();
  console.log(`selection opened on layer ${views.openedOn.layer}, ${views.openedOn.group}`);
  await shoot('Selection', () =>
    page
      .getByTestId('weight-views')
      .locator('canvas')
      .nth(1)
      .hover({ position: { x: 20, y: 20 } }),
  );
  const s2ft = await studio.train({ method: 's2ft', steps: 20, timeoutMs: RUN_MS });
  expect(s2ft.phase).toBe('done');
  await expect(page.getByTestId('exact-match')).toHaveAttribute('data-after', /\d/);
  await shoot('Train');
  const lora = await studio.train({ method: 'lora', steps: 20, timeoutMs: RUN_MS });
  expect(lora.phase).toBe('done');
  await shoot('Compare');
  const first = page.getByTestId('adapter-table').locator('tbody tr').first();
  await studio.openPanel('Adapters');
  const name = (await first.getAttribute('data-adapter')) ?? undefined;
  await studio.useAdapter(name);
  await studio.generate('seven compasses =', 3, name);
  await expect(page.getByTestId('output-adapter')).toBeVisible();
  await shoot('Adapters');
});
