// Where the e2e tests find Chrome/Chromium, and how they launch it. Shared by
// scripts/ensure-chromium.mjs and playwright.config.ts. Plain JavaScript so Node runs it directly.
import { existsSync } from 'node:fs';

/** Checked in this order when CHROME_PATH is not set. */
export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/google-chrome'];

/** The command that installs Debian's Chromium (SwiftShader WebGPU included). */
export const CHROMIUM_INSTALL_COMMAND = 'apt-get update && apt-get install -y chromium';

/**
 * Headless, offline, as root: no sandbox (root), no background traffic, and WebGPU on Linux,
 * where Chrome hands out no adapter without --enable-unsafe-webgpu.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--enable-unsafe-webgpu',
];

/**
 * @returns {{ path: string, source: string } | { path: null, problem: string }}
 */
export function findChromium(env = process.env) {
  if (env.CHROME_PATH) {
    return existsSync(env.CHROME_PATH)
      ? { path: env.CHROME_PATH, source: 'CHROME_PATH' }
      : { path: null, problem: `CHROME_PATH is set to ${env.CHROME_PATH}, but no file is there.` };
  }
  const found = CHROMIUM_CANDIDATES.find((p) => existsSync(p));
  return found
    ? { path: found, source: found }
    : { path: null, problem: `No Chrome or Chromium found (checked CHROME_PATH, ${CHROMIUM_CANDIDATES.join(', ')}).` };
}
