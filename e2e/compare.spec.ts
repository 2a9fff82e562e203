import { expect, test } from './fixtures';
import { E2E_SETTINGS, openStudio } from './studio';

test('S²FT and LoRA on the same model and data, compared side by side', async ({ page }) => {
  // Each run took up to ~170 s on a quiet 2-core machine (kernel compilation, 10 steps, the final
  // evaluation with exact match): 3× that per run.
  test.setTimeout(1_200_000);
  // No sample generations and one evaluation at the end: this spec is about the comparison.
  const studio = await openStudio(page, { ...E2E_SETTINGS, sampleEvery: 0, evalEvery: 0 });
  await studio.modelLoaded();
  await studio.dataLoaded();
  await studio.chooseUnits({ strategy: 'random', heads: 1, channels: 16 });

  const s2ft = await studio.train({ method: 's2ft', steps: 10, timeoutMs: 510_000 });
  const lora = await studio.train({ method: 'lora', steps: 10, timeoutMs: 510_000 });
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
});
