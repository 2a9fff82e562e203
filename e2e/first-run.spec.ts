/**
 * The first run, as a newcomer meets it: open the studio with nothing changed, press Start
 * training, and see the held-out exact match rise and the answers change beside the originals.
 * The defaults (src/app/settings.ts) are the run; nothing here sets them.
 */
import { expect, test } from './fixtures';
import { openStudio } from './studio';

// Measured on this machine's SwiftShader WebGPU under a shared load (about 15 on 2 cores): about
// 3 minutes to the first step and 10 s a step; every wait below has over 3× that.
const RUN_MS = 25 * 60_000;

test('one click on the defaults trains a run whose held-out exact match rises past one half', async ({ page }) => {
  test.setTimeout(RUN_MS + 5 * 60_000);
  const opened = Date.now();
  const studio = await openStudio(page);
  await studio.openPanel('Train');
  const start = page.getByRole('button', { name: 'Start training' });
  await expect(start).toBeEnabled({ timeout: 120_000 });
  const clicked = Date.now();
  await start.click();

  const run = page.getByTestId('train-run');
  await expect(run).toHaveAttribute('data-phase', 'training', { timeout: RUN_MS });
  const firstStep = Date.now();
  await expect(run).toHaveAttribute('data-phase', 'done', { timeout: RUN_MS });
  const done = Date.now();

  const score = page.getByTestId('exact-match');
  await expect(score).toHaveAttribute('data-after', /\d/);
  const before = Number(await score.getAttribute('data-before'));
  const after = Number(await score.getAttribute('data-after'));
  const rows = page.getByTestId('side-by-side').locator('tbody tr');
  const table = await rows.evaluateAll((trs) =>
    trs.map((tr) => Array.from(tr.querySelectorAll('th, td'), (c) => (c as HTMLElement).innerText)),
  );
  console.log(
    `first run: ${await run.getAttribute('data-steps')} steps; exact match ${(100 * before).toFixed(1)}% -> ` +
      `${(100 * after).toFixed(1)}%; loss ${await run.getAttribute('data-first-loss')} -> ` +
      `${await run.getAttribute('data-last-loss')}; ready ${((clicked - opened) / 1000).toFixed(0)} s after opening, ` +
      `first step ${((firstStep - clicked) / 1000).toFixed(0)} s after the click, done ${((done - clicked) / 1000).toFixed(0)} s after it`,
  );
  for (const [prompt, was, now] of table) console.log(`  ${prompt} | before: ${was} | after: ${now}`);
  await expect(score).toContainText('before');

  expect(before).toBeLessThanOrEqual(0.1);
  expect(after).toBeGreaterThanOrEqual(0.5);
  expect(table.length).toBeGreaterThanOrEqual(2);
  // The answers changed: after the run each is a number, where before none was.
  expect(table.filter(([, was]) => /^\s*\d+\s*$/.test(was))).toHaveLength(0);
  expect(table.filter(([, , now]) => /^\s*\d+\s*$/.test(now)).length).toBeGreaterThanOrEqual(2);
});
