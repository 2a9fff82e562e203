import { strFromU8, unzipSync } from 'fflate';
import { expect, test } from './fixtures';
import { openStudio, safetensorsHeader } from './studio';

// The whole S²FT story on the embedded model, in real Chromium on WebGPU (SwiftShader here).
test('fine-tune the default model with S²FT, download the adapter, and bring it back after a reload', async ({
  page,
}) => {
  // Measured under a load of about 10 on 2 cores: over 6 minutes for the 20-step run (most of it
  // the step-0 evaluation and samples, compiling their kernels); the waits have 3× headroom.
  test.setTimeout(45 * 60_000);
  const timings: string[] = [];
  const timed = async <T>(what: string, step: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    const result = await step();
    timings.push(`${what} ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return result;
  };

  const studio = await openStudio(page); // the first-run defaults, samples before and after included
  const summary = await timed('default model', () => studio.modelLoaded());
  expect(summary).toMatch(/Parameters/);
  expect(await timed('default data', () => studio.dataLoaded())).toMatch(/count for the loss/);

  const chosen = await timed('selection', () => studio.chooseUnits({ strategy: 'weight', heads: 1, channels: 16 }));
  const layers = Number(summary.match(/(\d+) layers/)![1]);
  const hidden = Number(summary.match(/Hidden size\s+(\d+)/)![1]);
  const headDim = Number(summary.match(/heads(?: \([^)]*\))? of (\d+)/)![1]);
  expect(chosen).toEqual({ heads: layers, channels: 16 * layers });

  const watch = await studio.watchMainThread();
  const run = await timed('train 20 steps', () => studio.train({ method: 's2ft', steps: 20, timeoutMs: 25 * 60_000 }));
  const { maxStallMs } = await watch.stop();
  console.log(
    `S²FT run: ${run.steps} steps, loss ${run.firstLoss.toFixed(4)} -> ${run.lastLoss.toFixed(4)}; main thread max stall ${maxStallMs.toFixed(0)} ms`,
  );
  // Charts redraw from events batched per frame, deferred behind input: the page never freezes.
  // (The bound is loose because SwiftShader and the worker share two CPU cores with the page.)
  expect(maxStallMs).toBeLessThan(2_000);
  expect(run.phase).toBe('done');
  expect(run.steps).toBe(20);
  expect(run.lastLoss).toBeLessThan(run.firstLoss);
  await expect(page.getByTestId('samples').locator('[data-step="0"]')).toBeVisible();
  const prompt = await page.getByTestId('samples').locator('.sample-prompt').first().innerText();

  const views = await studio.selectionViews('attention');
  // The views open where the co-permutation moves units: the original order's outlined blocks are
  // not the permuted order's single block at the front.
  console.log(
    `selection views opened on layer ${views.openedOn.layer}, ${views.openedOn.group}: ${views.openedOn.original.slice(0, 3).join('; ')} …`,
  );
  expect(views.openedOn.permuted.length).toBeGreaterThan(0);
  expect(views.openedOn.original).not.toEqual(views.openedOn.permuted);
  await expect(views.headGrid).toBeVisible();
  await expect(views.channelStrip).toBeVisible();
  // The co-permuted o_proj has one dense trainable block; the original has the selected heads scattered.
  await expect(views.permuted.getByTestId('view-o_proj-permuted-outline')).toHaveCount(1);
  await views.permuted.locator('canvas').hover({ position: { x: 2, y: 2 } });
  await expect(views.permuted.getByTestId('view-o_proj-permuted-hover')).toContainText(
    'permuted position 0 ← original head',
  );

  const file = await timed('download', () => studio.downloadAdapter('s2ft'));
  const header = safetensorsHeader(file.bytes);
  expect(header.__metadata__?.format).toBe('s2ft');
  expect(JSON.parse(header.__metadata__!.s2ft_config).peft_type).toBe('S2FT');
  for (let layer = 0; layer < layers; layer++) {
    // One head trains headDim columns of o_proj: delta [hidden, headDim], columns [headDim].
    expect(header[`model.layers.${layer}.self_attn.o_proj.s2ft_columns`]).toEqual(
      expect.objectContaining({ dtype: 'I32', shape: [headDim] }),
    );
    expect(header[`model.layers.${layer}.self_attn.o_proj.s2ft_delta`]).toEqual(
      expect.objectContaining({ dtype: 'F32', shape: [hidden, headDim] }),
    );
    expect(header[`model.layers.${layer}.mlp.down_proj.s2ft_columns`]).toEqual(
      expect.objectContaining({ dtype: 'I32', shape: [16] }),
    );
  }

  // The same update as an exact PEFT LoRA: adapter_config.json and adapter_model.safetensors.
  const peft = await studio.downloadAdapter('peft-zip');
  const zip = unzipSync(new Uint8Array(peft.bytes));
  expect(Object.keys(zip).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
  expect(JSON.parse(strFromU8(zip['adapter_config.json'])).peft_type).toBe('LORA');

  // "Scale out": the PyTorch recipe folder of this run, zipped under one folder.
  const recipe = await timed('recipe', () => studio.downloadRecipe());
  expect(recipe.name).toMatch(/-s2ft-recipe\.zip$/);
  const folder = unzipSync(new Uint8Array(recipe.bytes));
  const stem = recipe.name.replace(/\.zip$/, '');
  expect(strFromU8(folder[`${stem}/train.py`])).toContain('torch.distributed');
  expect(JSON.parse(strFromU8(folder[`${stem}/selection.json`])).layers).toHaveLength(layers);

  await timed('reload', async () => {
    await page.reload();
    await studio.modelLoaded();
  });
  expect(await timed('import', () => studio.importAdapter(file))).toMatch(/Imported/);
  await studio.useAdapter();
  const out = await timed('generate', () => studio.generate(prompt, 8, file.name));
  console.log(
    `generation from ${JSON.stringify(prompt)}\n  base:    ${JSON.stringify(out.base)}\n  adapter: ${JSON.stringify(out.adapter)}`,
  );
  expect(out.adapter).not.toBeNull();
  expect(out.adapter).not.toBe(out.base);

  // The PEFT LoRA zip imports too, as PEFT would load it (test/worker-adapters.test.ts checks that
  // it generates exactly what the S²FT file does).
  expect(await timed('import PEFT', () => studio.importAdapter(peft))).toMatch(/Imported/);

  // The base with that adapter fused in, as the HuggingFace folder `cli fuse` writes, zipped.
  const fused = await timed('fused model', () => studio.downloadFusedModel({ weight: 1 }));
  const entries = Object.keys(unzipSync(new Uint8Array(fused.bytes))).map((p) => p.split('/').pop());
  expect(entries).toEqual(expect.arrayContaining(['config.json', 'model.safetensors', 'tokenizer.json']));
  console.log(`timings: ${timings.join(', ')}`);
});
