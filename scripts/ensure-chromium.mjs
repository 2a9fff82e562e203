// Makes sure the e2e tests have a Chrome/Chromium. Finds one (CHROME_PATH, /usr/bin/chromium,
// /usr/bin/google-chrome); if none, installs Debian's `chromium` with apt-get when running as
// root on Debian/Ubuntu, and otherwise stops with the command to run. Never downloads a browser.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CHROMIUM_INSTALL_COMMAND, findChromium } from './chromium.mjs';

function report(found) {
  console.log(`e2e browser: ${found.path} (from ${found.source})`);
}

const found = findChromium();
if (found.path) {
  report(found);
  process.exit(0);
}
if (process.env.CHROME_PATH) {
  console.error(`${found.problem}\nPoint CHROME_PATH at a Chrome/Chromium binary, or unset it.`);
  process.exit(1);
}

const isRoot = process.getuid?.() === 0;
const hasApt = existsSync('/etc/debian_version') && existsSync('/usr/bin/apt-get');
if (!isRoot || !hasApt) {
  const how = hasApt
    ? `sudo sh -c '${CHROMIUM_INSTALL_COMMAND}'`
    : 'install Chrome or Chromium with your package manager';
  console.error(
    `${found.problem}\nThe e2e tests need one. Run:\n  ${how}\nor set CHROME_PATH to a Chrome/Chromium binary.`,
  );
  process.exit(1);
}

console.log(`${found.problem}\nInstalling Debian's Chromium: ${CHROMIUM_INSTALL_COMMAND}`);
const install = spawnSync('sh', ['-c', CHROMIUM_INSTALL_COMMAND], {
  stdio: 'inherit',
  env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
});
const after = findChromium();
if (install.status !== 0 || !after.path) {
  console.error(
    `Installing Chromium failed (exit ${install.status}). Install Chrome or Chromium yourself, or set CHROME_PATH.`,
  );
  process.exit(1);
}
report(after);
