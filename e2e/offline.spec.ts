import { expect, test } from './fixtures';
import { openStudio } from './studio';

test('no request leaves the page origin', async ({ page, context, baseURL }) => {
  const origin = new URL(baseURL!).origin;
  const outside: string[] = [];
  const inside: string[] = [];
  // Every request of the page and its workers passes here; foreign ones are recorded and blocked.
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    const local = url.origin === origin || url.protocol === 'data:' || url.protocol === 'blob:';
    if (local) {
      inside.push(url.pathname);
      return route.continue();
    }
    outside.push(url.href);
    return route.abort('blockedbyclient');
  });
  page.on('websocket', (ws) => {
    if (new URL(ws.url()).origin !== origin.replace(/^http/, 'ws')) outside.push(ws.url());
  });

  const studio = await openStudio(page);
  for (const panel of ['Model', 'Data', 'Selection', 'Compare', 'Adapters']) await studio.openPanel(panel);
  const run = await studio.smokeTrain(3);
  expect(run.losses).toHaveLength(3);

  // The route saw the studio's own traffic, the worker's script included, and nothing else.
  expect(inside.some((path) => path.includes('training.worker'))).toBe(true);
  expect(outside).toEqual([]);
});
