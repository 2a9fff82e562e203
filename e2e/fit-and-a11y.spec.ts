/**
 * Every panel fits the screen and passes an accessibility audit, on the embedded model: at
 * 1280 × 800 and 1920 × 1080 the page never scrolls sideways, and axe-core finds no serious or
 * critical violation (WCAG 2 A/AA rules) on any panel, with the diagnostics view open too. A model
 * as wide as Llama 3.2-1B's feed-forward (8192 channels a layer) fits as well.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { CHECKPOINTS_DIR, SMOLLM2_135M, type RealShape } from '../scripts/realShapes/shapes';
import { writeRealShape } from '../scripts/realShapes/write';
import { expect, test } from './fixtures';
import { openStudio, type Studio } from './studio';

const PANELS = ['Model', 'Data', 'Selection', 'Train', 'Compare', 'Adapters'];

async function noPanelScrollsSideways(page: Page, studio: Studio, what: string) {
  for (const panel of PANELS) {
    await studio.openPanel(panel);
    const { scrollWidth, clientWidth } = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
    }));
    console.log(`${what} ${panel}: scroll width ${scrollWidth}, viewport ${clientWidth}`);
    expect(scrollWidth, `${panel} scrolls sideways`).toBeLessThanOrEqual(clientWidth);
  }
}

for (const size of [
  { width: 1280, height: 800 },
  { width: 1920, height: 1080 },
]) {
  test(`no panel scrolls sideways at ${size.width} × ${size.height}`, async ({ page }) => {
    await page.setViewportSize(size);
    const studio = await openStudio(page);
    await studio.openPanel('Train');
    await expect(page.getByRole('button', { name: 'Start training' })).toBeEnabled({ timeout: 120_000 });
    await noPanelScrollsSideways(page, studio, `${size.width} × ${size.height}`);
  });
}

/** Two layers of 8192 feed-forward channels (Llama 3.2-1B's), narrow elsewhere so it loads in seconds. */
const WIDE: RealShape = {
  name: 'wide-8192-channels',
  sharded: false,
  config: {
    ...SMOLLM2_135M.config,
    hidden_size: 64,
    intermediate_size: 8192,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    num_hidden_layers: 2,
    vocab_size: 2048,
  },
};

test('a model with 8192 channels a layer fits at 1280 × 800, its strip scaled to the page', async ({ page }) => {
  const dir = join(CHECKPOINTS_DIR, WIDE.name);
  if (!existsSync(join(dir, 'config.json'))) await writeRealShape(WIDE, dir);
  await page.setViewportSize({ width: 1280, height: 800 });
  const studio = await openStudio(page);
  await studio.modelLoaded();
  expect(await studio.openModelFolder(dir)).toMatch(/8192/);
  await studio.openPanel('Train');
  await expect(page.getByRole('button', { name: 'Start training' })).toBeEnabled({ timeout: 120_000 });
  await noPanelScrollsSideways(page, studio, 'wide model, 1280 × 800');
  const views = await studio.selectionViews();
  const box = (await views.channelStrip.boundingBox())!;
  console.log(`8192-channel strip: ${box.width.toFixed(0)} px wide from x ${box.x.toFixed(0)}`);
  expect(box.x + box.width).toBeLessThanOrEqual(1280);
});

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
