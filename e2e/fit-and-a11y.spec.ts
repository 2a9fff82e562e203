/**
 * Every panel fits the screen and passes an accessibility audit, on the embedded model: at
 * 1280 × 800 and 1920 × 1080 the page never scrolls sideways, and axe-core finds no serious or
 * critical violation (WCAG 2 A/AA rules) on any panel, with the diagnostics view open too.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test } from './fixtures';
import { openStudio } from './studio';

const PANELS = ['Model', 'Data', 'Selection', 'Train', 'Compare', 'Adapters'];

for (const size of [
  { width: 1280, height: 800 },
  { width: 1920, height: 1080 },
]) {
  test(`no panel scrolls sideways at ${size.width} × ${size.height}`, async ({ page }) => {
    await page.setViewportSize(size);
    const studio = await openStudio(page);
    await studio.openPanel('Train');
    await expect(page.getByRole('button', { name: 'Start training' })).toBeEnabled({ timeout: 120_000 });
    for (const panel of PANELS) {
      await studio.openPanel(panel);
      const { scrollWidth, clientWidth } = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: document.documentElement.clientWidth,
      }));
      console.log(`${size.width} × ${size.height} ${panel}: scroll width ${scrollWidth}, viewport ${clientWidth}`);
      expect(scrollWidth, `${panel} scrolls sideways`).toBeLessThanOrEqual(clientWidth);
    }
  });
}

test('axe finds no serious or critical violation on any panel', async ({ page }) => {
  const studio = await openStudio(page);
  await studio.openPanel('Train');
  await expect(page.getByRole('button', { name: 'Start training' })).toBeEnabled({ timeout: 120_000 });
  await studio.openDiagnostics();
  const found: string[] = [];
  for (const panel of PANELS) {
    await studio.openPanel(panel);
    const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
    const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    console.log(`${panel}: ${result.violations.length} violations, ${bad.length} serious or critical`);
    for (const v of bad)
      found.push(`${panel}: ${v.id} (${v.impact}) at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }
  expect(found).toEqual([]);
});
