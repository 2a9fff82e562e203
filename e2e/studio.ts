/**
 * Drives the studio the way a person does, so specs read like user stories:
 * `const studio = await openStudio(page); await studio.chooseUnits({...}); await studio.train({...})`.
 */
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, type Page } from '@playwright/test';
import { DEFAULT_SETTINGS, encodeSettingsHash, type StudioSettings } from '../src/app/settings';

export interface SmokeRun {
  backend: string;
  losses: number[];
}

export interface MainThreadWatch {
  /** Stops watching; the longest gap between 10 ms timer ticks, i.e. the worst main-thread stall. */
  stop(): Promise<{ maxStallMs: number; ticks: number }>;
}

export interface TrainedRun {
  phase: string;
  steps: number;
  firstLoss: number;
  lastLoss: number;
  ms: number;
}

export interface DownloadedFile {
  name: string;
  bytes: Buffer;
}

/**
 * The studio's own first-run defaults (number-words rows of 16 tokens, 8 a step, 36 validation
 * rows scored in 5 passes) with no sample generations: the cheapest run on SwiftShader (WebGPU on
 * the CPU) whose loss falls clearly within a few steps, and whose evaluations stay a few passes.
 */
export const E2E_SETTINGS: Partial<StudioSettings> = { sampleEvery: 0 };

/** Training and selection settings are given through the link, the way a shared setup arrives. */
export async function openStudio(page: Page, settings: Partial<StudioSettings> = {}) {
  await page.goto(`/${encodeSettingsHash({ ...DEFAULT_SETTINGS, ...settings })}`);
  const badge = page.getByTestId('backend-badge');
  await expect(badge).not.toHaveText('Starting…');
  const panel = (name: string) => page.getByRole('tabpanel', { name });

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
      await expect(panel(name)).toBeVisible();
    },

    /** Waits for the model the studio opened with (or the one just loaded); returns its summary table's text. */
    async modelLoaded(): Promise<string> {
      await studio.openPanel('Model');
      await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 120_000 });
      return page.getByTestId('model-summary').innerText();
    },

    /** Picks every file of a checkpoint folder in the Model panel's file input and waits for the model. */
    async openModelFolder(dir: string, timeoutMs = 120_000): Promise<string> {
      await studio.openPanel('Model');
      await page
        .getByTestId('model-drop')
        .locator('input[type=file]')
        .first()
        .setInputFiles(readdirSync(dir).map((f) => join(dir, f)));
      await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: timeoutMs });
      return page.getByTestId('model-summary').innerText();
    },

    /** Waits for the preselected (or just loaded) data; returns the summary sentence. */
    async dataLoaded(): Promise<string> {
      await studio.openPanel('Data');
      const status = page.getByTestId('data-status');
      await expect(status).toHaveAttribute('data-state', 'ready', { timeout: 120_000 });
      return status.getByRole('status').innerText();
    },

    /** Uploads a data file from memory, as if picked in the file dialog. */
    async uploadData(name: string, text: string) {
      await studio.openPanel('Data');
      await page
        .getByTestId('data-drop')
        .locator('input[type=file]')
        .setInputFiles({ name, mimeType: 'text/plain', buffer: Buffer.from(text) });
      await expect(page.getByTestId('data-status')).not.toHaveAttribute('data-state', 'busy', { timeout: 60_000 });
    },

    /** The broken-line messages the Data panel lists. */
    async dataErrors(): Promise<string[]> {
      return page.getByTestId('data-errors').locator('li').allInnerTexts();
    },

    /** Selects heads and channels in the Selection panel; returns how many the grids mark. */
    async chooseUnits(choice: { strategy?: string; heads: number; channels: number }) {
      await studio.openPanel('Selection');
      const form = panel('Selection').getByRole('form', { name: 'Selection settings' });
      if (choice.strategy) await form.getByLabel('Strategy', { exact: true }).selectOption(choice.strategy);
      await form.getByLabel('Budget', { exact: true }).selectOption('perLayer');
      await form.getByLabel('Heads per layer', { exact: true }).fill(String(choice.heads));
      await form.getByLabel('Channels per layer', { exact: true }).fill(String(choice.channels));
      await form.getByRole('button', { name: 'Select units' }).click();
      await expect(page.getByTestId('selection-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
      return {
        heads: Number(await page.getByTestId('head-grid').getAttribute('data-selected')),
        channels: Number(await page.getByTestId('channel-strip').getAttribute('data-selected')),
      };
    },

    /**
     * The selection pictures and one layer's weights before and after co-permutation: the layer and
     * weights the panel opened on, the outlines of its first pair, then (with `group`) the views of that group.
     */
    async selectionViews(group?: 'attention' | 'mlp') {
      await studio.openPanel('Selection');
      const views = page.getByTestId('weight-views');
      await expect(views).toBeVisible({ timeout: 60_000 });
      const shown = page.getByRole('group', { name: 'Weights shown' });
      // By role: a wrapping <label>'s text includes the options' text.
      const layer = shown.getByRole('combobox', { name: 'Layer' });
      const weights = shown.getByRole('combobox', { name: 'Weights' });
      const outlineTitles = (view: 'original' | 'permuted') =>
        views
          .locator(`[data-testid$="-${view}-outline"]`)
          .evaluateAll((els) => els.slice(0, 64).map((e) => e.getAttribute('title') ?? ''));
      const openedOn = {
        layer: Number(await layer.inputValue()),
        group: (await weights.inputValue()) as 'attention' | 'mlp',
        original: await outlineTitles('original'),
        permuted: await outlineTitles('permuted'),
      };
      if (group && group !== openedOn.group) {
        await weights.selectOption(group);
        await expect(
          page.getByTestId(group === 'attention' ? 'view-o_proj-original' : 'view-down_proj-original'),
        ).toBeVisible({
          timeout: 60_000,
        });
      }
      return {
        openedOn,
        headGrid: page.getByTestId('head-grid').locator('canvas'),
        channelStrip: page.getByTestId('channel-strip').locator('canvas'),
        original: page.getByTestId('view-o_proj-original'),
        permuted: page.getByTestId('view-o_proj-permuted'),
      };
    },

    /** Trains with the given method and settings from the Train panel, to the end. */
    async train(options: {
      method?: 's2ft' | 'lora' | 'full';
      steps: number;
      timeoutMs?: number;
    }): Promise<TrainedRun> {
      await studio.startTraining(options);
      return studio.trainingResult(options.timeoutMs);
    },

    async startTraining({ method = 's2ft', steps }: { method?: 's2ft' | 'lora' | 'full'; steps: number }) {
      await studio.openPanel('Train');
      const form = panel('Train').getByRole('form', { name: 'Training settings' });
      await form.getByLabel('Method', { exact: true }).selectOption(method);
      await form.getByLabel('Training steps', { exact: true }).fill(String(steps));
      await form.getByRole('button', { name: 'Start training' }).click();
      await expect(page.getByTestId('train-run')).toBeVisible();
    },

    /** Presses a run control (Pause, Resume, Stop) from the keyboard and waits for the run's phase. */
    async runControl(name: 'Pause' | 'Resume' | 'Stop', phase: RegExp) {
      await studio.openPanel('Train');
      const button = page.getByRole('button', { name, exact: true });
      await expect(button).toBeEnabled({ timeout: 120_000 });
      await button.focus();
      await page.keyboard.press('Enter');
      await expect(page.getByTestId('train-run')).toHaveAttribute('data-phase', phase, { timeout: 120_000 });
    },

    async trainingResult(timeoutMs = 170_000): Promise<TrainedRun> {
      const started = Date.now();
      const run = page.getByTestId('train-run');
      await expect(run).toHaveAttribute('data-phase', /^(done|stopped|error)$/, { timeout: timeoutMs });
      const attr = async (name: string) => Number(await run.getAttribute(name));
      return {
        phase: (await run.getAttribute('data-phase')) ?? '',
        steps: await attr('data-steps'),
        firstLoss: await attr('data-first-loss'),
        lastLoss: await attr('data-last-loss'),
        ms: Date.now() - started,
      };
    },

    /**
     * Notes the time of every phase and step change of the run on screen, from now on; `read()`
     * returns them ("12 s training step 3"): where a slow run spends its time.
     */
    async recordRunTimeline(): Promise<{ read(): Promise<string[]> }> {
      await page.getByTestId('train-run').evaluate((run) => {
        const started = performance.now();
        const notes: string[] = [];
        const note = () =>
          notes.push(
            `${((performance.now() - started) / 1000).toFixed(0)} s ${run.getAttribute('data-phase')} step ${run.getAttribute('data-steps')}`,
          );
        note();
        new MutationObserver(note).observe(run, { attributes: true, attributeFilter: ['data-phase', 'data-steps'] });
        (window as unknown as { runTimeline: string[] }).runTimeline = notes;
      });
      return { read: () => page.evaluate(() => (window as unknown as { runTimeline: string[] }).runTimeline) };
    },

    /** Downloads the newest adapter as a native S²FT file (or a PEFT zip) from the Adapters panel. */
    async downloadAdapter(kind: 's2ft' | 'peft-zip' = 's2ft'): Promise<DownloadedFile> {
      await studio.openPanel('Adapters');
      const row = page.getByTestId('adapter-table').locator('tbody tr').last();
      const download = page.waitForEvent('download');
      await row.getByRole('button', { name: kind === 's2ft' ? /S²FT safetensors/ : /PEFT LoRA zip/ }).click();
      const file = await download;
      return { name: file.suggestedFilename(), bytes: await readFile((await file.path())!) };
    },

    /** Downloads the PyTorch recipe zip with the Train panel's "Scale out" button, pressed from the keyboard. */
    async downloadRecipe(): Promise<DownloadedFile> {
      await studio.openPanel('Train');
      const button = page.getByRole('button', { name: 'Scale out (PyTorch recipe)' });
      await expect(button).toBeEnabled();
      await button.focus();
      const download = page.waitForEvent('download');
      await page.keyboard.press('Enter');
      const file = await download;
      return { name: file.suggestedFilename(), bytes: await readFile((await file.path())!) };
    },

    /**
     * Imports an adapter file, as if picked in the file dialog; returns the panel's message once it
     * is this import's (it differs from the one shown before, and a new row is listed on success).
     */
    async importAdapter(file: DownloadedFile): Promise<string> {
      await studio.openPanel('Adapters');
      const message = page.getByTestId('adapter-message');
      const before = (await message.count()) ? await message.innerText() : '';
      const rows = page.getByTestId('adapter-table').locator('tbody tr');
      const count = await rows.count();
      await page
        .getByTestId('adapter-drop')
        .locator('input[type=file]')
        .setInputFiles({ name: file.name, mimeType: 'application/octet-stream', buffer: file.bytes });
      await expect(message).toBeVisible({ timeout: 60_000 });
      await expect(message).not.toHaveText(before, { timeout: 60_000 });
      const text = await message.innerText();
      if (/^Imported/.test(text)) await expect(rows).toHaveCount(count + 1);
      return text;
    },

    /** Downloads a finished run from its row in the Compare panel as JSON or CSV. */
    async downloadRun(name: string, kind: 'JSON' | 'CSV'): Promise<DownloadedFile> {
      await studio.openPanel('Compare');
      const download = page.waitForEvent('download');
      await page.getByRole('button', { name: `Download ${name} as ${kind}`, exact: true }).click();
      const file = await download;
      return { name: file.suggestedFilename(), bytes: await readFile((await file.path())!) };
    },

    /** Gives the newest adapter a fuse weight and downloads the base with it fused (a zipped folder). */
    async downloadFusedModel({ weight }: { weight: number }): Promise<DownloadedFile> {
      await studio.openPanel('Adapters');
      const row = page.getByTestId('adapter-table').locator('tbody tr').last();
      await row.getByLabel(/^Fuse weight for /).fill(String(weight));
      const download = page.waitForEvent('download', { timeout: 120_000 });
      await page.getByRole('button', { name: 'Download the fused model' }).click();
      const file = await download;
      return { name: file.suggestedFilename(), bytes: await readFile((await file.path())!) };
    },

    /**
     * Imports a run file into Compare, as if picked in the file dialog; returns the panel's message,
     * which must differ from the one shown before (it is what tells this import from the last).
     */
    async importRun(file: DownloadedFile): Promise<{ text: string; error: boolean }> {
      await studio.openPanel('Compare');
      const message = page.getByTestId('run-import-message');
      const before = (await message.count()) ? await message.innerText() : '';
      await page
        .getByTestId('run-drop')
        .locator('input[type=file]')
        .setInputFiles({ name: file.name, mimeType: 'application/json', buffer: file.bytes });
      await expect(message).toBeVisible({ timeout: 30_000 });
      await expect(message).not.toHaveText(before, { timeout: 30_000 });
      return { text: await message.innerText(), error: (await message.getAttribute('role')) === 'alert' };
    },

    /** Downloads the chart with this test id as SVG or PNG from its own buttons. */
    async downloadChart(testId: string, kind: 'SVG' | 'PNG'): Promise<DownloadedFile> {
      const chart = page.getByTestId(testId);
      const download = page.waitForEvent('download');
      await chart.getByRole('button', { name: new RegExp(`as ${kind}$`) }).click();
      const file = await download;
      return { name: file.suggestedFilename(), bytes: await readFile((await file.path())!) };
    },

    /** Opens a chart's "Show the numbers"; returns the points it draws and the rows of its table. */
    async chartNumbers(testId: string): Promise<{ points: number; rows: number; firstRow: string }> {
      const chart = page.getByTestId(testId);
      await chart.getByText('Show the numbers').click();
      const rows = chart.getByTestId('chart-numbers').locator('tbody tr');
      await expect(rows.first()).toBeVisible();
      return {
        points: Number(await chart.getAttribute('data-points')),
        rows: await rows.count(),
        firstRow: await rows.first().innerText(),
      };
    },

    /** Makes the named adapter (the newest when omitted) the one the playground generates with. */
    async useAdapter(name?: string) {
      await studio.openPanel('Adapters');
      const rows = page.getByTestId('adapter-table').locator('tbody tr');
      const row = name ? rows.filter({ has: page.getByRole('rowheader', { name }) }) : rows.last();
      await row.getByRole('button', { name: 'Use' }).click();
      await expect(row).toHaveAttribute('data-active', 'true');
    },

    /**
     * Generates greedily from the prompt with the base model and with the adapter in use; with
     * `adapter`, waits for the output made with that adapter (not an earlier one still on screen).
     */
    async generate(
      prompt: string,
      newTokens = 16,
      adapter?: string,
    ): Promise<{ base: string; adapter: string | null }> {
      await studio.openPanel('Adapters');
      const form = panel('Adapters').getByRole('form', { name: 'Playground' });
      await form.getByLabel('Prompt', { exact: true }).fill(prompt);
      await form.getByLabel('New tokens', { exact: true }).fill(String(newTokens));
      await form.getByRole('button', { name: 'Generate' }).click();
      const base = page.getByTestId('output-base');
      await expect(base).toBeVisible({ timeout: 60_000 });
      const output = page.getByTestId('output-adapter');
      if (adapter) await expect(output).toHaveAttribute('data-adapter', adapter, { timeout: 60_000 });
      return { base: await base.innerText(), adapter: (await output.count()) ? await output.innerText() : null };
    },

    /** Opens the diagnostics view (backend details, smoke test) from the backend badge, if closed. */
    async openDiagnostics() {
      if ((await badge.getAttribute('aria-expanded')) !== 'true') await badge.click();
      await expect(page.getByRole('region', { name: 'Diagnostics' })).toBeVisible();
    },

    /** Clicks "Run smoke test" and returns as soon as training is under way (or already over). */
    async startSmokeTrain(steps: number) {
      await studio.openDiagnostics();
      const smoke = page.getByRole('region', { name: 'Smoke test' });
      await smoke.getByLabel('Steps', { exact: true }).fill(String(steps));
      await smoke.getByRole('button', { name: 'Run smoke test' }).click();
      // On WebAssembly a short smoke test may be done before the first look.
      await expect(page.getByTestId('smoke-status')).toHaveAttribute('data-state', /^(running|done)$/);
    },

    /** Waits for the smoke test to finish and reads what it reported. */
    async smokeTrainResult(): Promise<SmokeRun> {
      await studio.openDiagnostics();
      await expect(page.getByTestId('smoke-status')).toHaveAttribute('data-state', 'done', { timeout: 150_000 });
      const list = page.getByTestId('smoke-losses');
      const losses = await list
        .locator('li')
        .evaluateAll((items) => items.map((li) => Number(li.getAttribute('data-loss'))));
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

/** The JSON header of a safetensors file, read by hand: 8-byte little-endian length, then JSON. */
export function safetensorsHeader(
  bytes: Buffer,
): Record<string, { dtype: string; shape: number[] }> & { __metadata__?: Record<string, string> } {
  const length = Number(bytes.readBigUInt64LE(0));
  return JSON.parse(bytes.subarray(8, 8 + length).toString('utf8'));
}
