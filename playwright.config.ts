import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, findChromium } from './scripts/chromium.mjs';

const chromium = findChromium();
if (chromium.path === null) {
  throw new Error(`${chromium.problem} Run: node scripts/ensure-chromium.mjs`);
}

// A port of our own, so a developer's `npm start` (5173) or `npm run preview` (4173) does not clash;
// E2E_PORT moves it, for two checkouts testing on one machine.
const PORT = Number(process.env.E2E_PORT ?? 4189);
const BASE_URL = `http://127.0.0.1:${PORT}`;

export default defineConfig({
  testDir: 'e2e',
  // SwiftShader runs WebGPU on the CPU: one test at a time, with room for kernel compilation.
  workers: 1,
  fullyParallel: false,
  timeout: 180_000,
  expect: { timeout: 60_000 },
  forbidOnly: Boolean(process.env.CI),
  reporter: [['list'], ['./e2e/durations.ts']],
  use: {
    baseURL: BASE_URL,
    browserName: 'chromium',
    headless: true,
    launchOptions: { executablePath: chromium.path, args: CHROMIUM_ARGS },
    trace: 'retain-on-failure',
    // A click or fill on a control that never becomes usable fails within a minute, naming it,
    // instead of waiting out a long test's whole timeout.
    actionTimeout: 60_000,
  },
  webServer: {
    // The built bundle (`vite build` runs first in `npm run test:e2e`), served by Node directly so
    // the process Playwright stops is the server itself.
    command: `node node_modules/vite/bin/vite.js preview --port ${PORT} --strictPort --host 127.0.0.1`,
    url: BASE_URL,
    reuseExistingServer: false,
    timeout: 60_000,
  },
});
