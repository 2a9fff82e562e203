/**
 * Makes the page's workers report more logical cores than the machine has, through the DevTools
 * protocol: each worker the page starts waits until its `navigator.hardwareConcurrency` is set.
 * tfjs's threaded wasm takes half the logical cores (it assumes two per physical core), so on this
 * project's 2-core machine it would run one thread however well its threads start; told 4, it runs
 * 2 (e2e/wasm-fallback.spec.ts). Only the page's own workers are told, not the workers they start.
 */
import type { Page } from '@playwright/test';

export async function emulateWorkerCores(page: Page, cores: number): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  let id = 0;
  cdp.on('Target.attachedToTarget', ({ sessionId, targetInfo }) => {
    if (targetInfo.type !== 'worker') return;
    const send = (method: string, params: object = {}) =>
      cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id: ++id, method, params }) });
    // The worker's session runs these in order: the override, then the worker's first line. They
    // fail only when the worker is already gone, and then there is no one left to tell.
    void Promise.all([
      send('Emulation.setHardwareConcurrencyOverride', { hardwareConcurrency: cores }),
      send('Runtime.runIfWaitingForDebugger'),
    ]).catch(() => undefined);
  });
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: true, flatten: false });
}
