import { expect, test } from './fixtures';
import { E2E_SETTINGS, openStudio } from './studio';

test('S²FT and LoRA on the same model and data, compared side by side', async ({ page }) => {
  // Each run took up to ~170 s on a quiet 2-core machine (kernel compilation, 10 steps, the final
  // evaluation with exact match) and over 500 s under a load of 10: 3× that per run.
  test.setTimeout(45 * 60_000);
  // No sample generations, evaluations only before and after: this spec is about the comparison.
  const studio = await openStudio(page, E2E_SETTINGS);
  await studio.modelLoaded();
  await studio.dataLoaded();
  await studio.chooseUnits({ strategy: 'random', heads: 1, channels: 16 });

  const s2ft = await studio.train({ method: 's2ft', steps: 10, timeoutMs: 20 * 60_000 });
  const lora = await studio.train({ method: 'lora', steps: 10, timeoutMs: 20 * 60_000 });
  console.log(
    `S²FT ${s2ft.firstLoss.toFixed(4)} -> ${s2ft.lastLoss.toFixed(4)} in ${s2ft.ms} ms; LoRA ${lora.firstLoss.toFixed(4)} -> ${lora.lastLoss.toFixed(4)} in ${lora.ms} ms`,
  );
  expect([s2ft.phase, lora.phase]).toEqual(['done', 'done']);

  await studio.openPanel('Compare');
  const rows = page.getByTestId('compare-table').locator('tbody tr');
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toHaveAttribute('data-method', 's2ft');
  await expect(rows.nth(1)).toHaveAttribute('data-method', 'lora');
  // Both final losses are real numbers, and the curves are overlaid on one chart.
  for (const row of [rows.nth(0), rows.nth(1)])
    expect(Number(await row.getByTestId('final-loss').innerText())).toBeGreaterThan(0);
  await expect(page.getByTestId('compare-chart').locator('.recharts-line')).toHaveCount(2);
  // The settings diff names the method (and the selection S²FT used), not what both shared.
  const diff = page.getByTestId('settings-diff');
  await expect(diff.getByRole('rowheader', { name: 'method' })).toBeVisible();
  await expect(diff.getByRole('rowheader', { name: 'steps' })).toHaveCount(0);

  // Take the S²FT run home: JSON with every curve, CSV with a header and one row per step.
  const name = (await rows.nth(0).getAttribute('data-run'))!;
  const json = await studio.downloadRun(name, 'JSON');
  const csv = await studio.downloadRun(name, 'CSV');
  const file = JSON.parse(json.bytes.toString('utf8'));
  expect([file.format, file.steps.length, file.summary.stepsDone]).toEqual(['s2ft-studio-run', 10, 10]);
  expect(file.summary.selection.layers.length).toBeGreaterThan(0);
  const lines = csv.bytes.toString('utf8').trimEnd().split('\r\n');
  console.log(`${json.name}: ${json.bytes.length} bytes; ${csv.name}: ${lines.length} lines, header ${lines[0]}`);
  expect(lines).toHaveLength(1 + 10);
  expect(lines[0].startsWith('run,step,loss,')).toBe(true);

  // Remove it, bring it back from the file, and see it kept across a reload like the runs trained here.
  await page.getByRole('button', { name: `Remove ${name}` }).click();
  await expect(rows).toHaveCount(1);
  expect(await studio.importRun(json)).toEqual({ text: `Imported ${name} (10 steps).`, error: false });
  await expect(rows).toHaveCount(2);
  // A second copy and a foreign file are refused with a message; nothing in the table changes.
  const twice = await studio.importRun(json);
  expect(twice.error).toBe(true);
  expect(twice.text).toContain(`this run is already in Compare as "${name}"`);
  const foreign = await studio.importRun({ name: 'config.json', bytes: Buffer.from('{"model_type": "llama"}') });
  expect(foreign.error).toBe(true);
  expect(foreign.text).toContain('config.json: "format" must be "s2ft-studio-run"');
  await expect(rows).toHaveCount(2);
  await page.reload();
  await studio.openPanel('Compare');
  await expect(rows).toHaveCount(2);
  await expect(page.getByTestId('compare-table').getByRole('rowheader', { name })).toBeVisible();

  // The overlaid chart's numbers as text, and the chart itself as SVG and PNG.
  const numbers = await studio.chartNumbers('compare-chart');
  console.log(`compare chart: ${numbers.points} points, ${numbers.rows} table rows; first row ${numbers.firstRow}`);
  expect(numbers.rows).toBe(numbers.points);
  expect(numbers.points).toBe(10);
  const svg = await studio.downloadChart('compare-chart', 'SVG');
  const parsed = await page.evaluate((text) => {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    return { root: doc.documentElement.nodeName, errors: doc.getElementsByTagName('parsererror').length };
  }, svg.bytes.toString('utf8'));
  expect(parsed).toEqual({ root: 'svg', errors: 0 });
  const png = await studio.downloadChart('compare-chart', 'PNG');
  console.log(`${svg.name}: ${svg.bytes.length} bytes; ${png.name}: ${png.bytes.length} bytes`);
  expect([...png.bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
});
