import { expect, test } from './fixtures';
import { openStudio } from './studio';

test('the built page refuses inline scripts and connections to other origins', async ({ page, consoleErrors }) => {
  await openStudio(page);
  const violated = await page.evaluate(
    () =>
      new Promise<string[]>((resolve) => {
        const directives: string[] = [];
        document.addEventListener('securitypolicyviolation', (e) => directives.push(e.effectiveDirective));
        const inline = document.createElement('script');
        inline.textContent = 'document.body.dataset.inlineScriptRan = "yes";';
        document.body.append(inline);
        fetch('http://example.invalid/')
          .catch(() => undefined)
          .finally(() => setTimeout(() => resolve(directives), 100));
      }),
  );
  expect(violated).toEqual(expect.arrayContaining(['script-src-elem', 'connect-src']));
  expect(await page.evaluate(() => document.body.dataset.inlineScriptRan)).toBeUndefined();

  // Chrome logs each refusal as a console error; these two were provoked on purpose.
  const isCsp = (e: string) => e.includes('Content Security Policy');
  await expect.poll(() => consoleErrors.filter(isCsp).length).toBeGreaterThanOrEqual(2);
  consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((e) => !isCsp(e)));
});
