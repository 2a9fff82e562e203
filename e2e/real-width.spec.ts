/**
 * A person's own checkpoint at a real model's width: SmolLM2-135M's hidden size, heads, 1536
 * channels and 49 152-token vocabulary with 2 of its 30 layers (so CPU-emulated WebGPU trains it
 * in CI time), random BF16 weights written by scripts/realShapes into test-checkpoints/. Picked in
 * the Model panel's file input, it loads; the dataset is tokenized again and units are selected
 * without touching the Data or Selection panels; the memory estimate follows the chosen batch ×
 * length; two S²FT steps train; the adapter downloads; the layers × channels strip stays inside
 * the page.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINTS_DIR, SMOLLM2_135M, withLayers } from '../scripts/realShapes/shapes';
import { writeRealShape } from '../scripts/realShapes/write';
import { expect, test } from './fixtures';
import { E2E_SETTINGS, openStudio, safetensorsHeader } from './studio';

const SHAPE = withLayers(SMOLLM2_135M, 2);
const DIR = join(CHECKPOINTS_DIR, SHAPE.name);
// No validation split: at a 49 152-token vocabulary SwiftShader spends longer on the step-0 and final
// evaluations than on training (measured: 540 s and 400 s of a 1 036 s run, the first step 94 s).
const SETTINGS = { ...E2E_SETTINGS, dataset: 'toy-tasks/train', validationFraction: 0, batchSize: 2, seqLen: 64 };

test.beforeAll(async () => {
  test.setTimeout(600_000);
  if (!existsSync(join(DIR, 'config.json'))) await writeRealShape(SHAPE, DIR);
});

test('model folder → train → adapter at SmolLM2-135M width, without the Data or Selection panels', async ({ page }) => {
  test.setTimeout(30 * 60_000);
  const studio = await openStudio(page, SETTINGS);
  await studio.modelLoaded(); // the embedded model and its dataset and selection first

  const summary = await studio.openModelFolder(DIR, 600_000);
  expect(summary).toMatch(/49152/);
  expect(summary).toMatch(/1536/);
  await expect(page.getByTestId('memory-setting')).toContainText('batch 2 × 64 tokens');
  await expect(page.getByTestId('memory-fit')).toHaveCount(0);

  // Start training is one click away: data re-tokenized and units selected for the new model.
  await studio.openPanel('Train');
  const start = page.getByRole('button', { name: 'Start training' });
  await expect(start).toBeEnabled({ timeout: 600_000 });
  await studio.startTraining({ method: 's2ft', steps: 2 });
  const timeline = await studio.recordRunTimeline();
  const run = await studio.trainingResult(15 * 60_000); // over 3× the measured first step and the rest
  console.log(
    `real width: ${run.steps} steps, loss ${run.firstLoss} → ${run.lastLoss}, ${(run.ms / 1000).toFixed(0)} s: ` +
      (await timeline.read()).join(', '),
  );
  expect(run.phase).toBe('done');
  expect(run.steps).toBe(2);
  expect(Number.isFinite(run.lastLoss)).toBe(true);

  const adapter = await studio.downloadAdapter('s2ft');
  const header = safetensorsHeader(adapter.bytes);
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  expect(names.length).toBeGreaterThan(0);
  for (const name of names) expect(name).toMatch(/^model\.layers\.[01]\./);

  // The 2 × 1536 strip is scaled to the page, not run past its right edge.
  const views = await studio.selectionViews();
  const box = (await views.channelStrip.boundingBox())!;
  const viewport = page.viewportSize()!;
  console.log(`channel strip: ${box.width.toFixed(0)} px wide from x ${box.x.toFixed(0)}; page ${viewport.width} px`);
  expect(box.x + box.width).toBeLessThanOrEqual(viewport.width);
});
