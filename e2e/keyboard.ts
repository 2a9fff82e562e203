/**
 * Keyboard-only driving for specs that prove the studio needs no mouse: focus moves with Tab
 * alone, the way a keyboard user reaches a control, and every press is counted.
 */
import { expect, type Locator, type Page } from '@playwright/test';

const isFocused = (target: Locator) => target.evaluate((el) => el === document.activeElement);

/** Presses Tab until `target` has focus; fails if it is not reached within `maxPresses`. Returns the presses. */
export async function tabTo(page: Page, target: Locator, maxPresses = 150): Promise<number> {
  await expect(target).toBeVisible();
  for (let presses = 1; presses <= maxPresses; presses++) {
    await page.keyboard.press('Tab');
    if (await isFocused(target)) return presses;
  }
  throw new Error(`${String(target)} was not reached with ${maxPresses} presses of Tab`);
}

/** Tabs to a button (or link) and presses Enter on it. */
export async function pressButton(page: Page, target: Locator): Promise<void> {
  await tabTo(page, target);
  await page.keyboard.press('Enter');
}

/** Moves from the focused panel tab to the named one with the arrow keys, and checks it opened. */
export async function arrowToPanel(page: Page, name: string): Promise<void> {
  const tabs = page.getByRole('tab');
  const names = await tabs.allInnerTexts();
  const target = names.indexOf(name);
  const current = await tabs.evaluateAll((els) => els.findIndex((el) => el === document.activeElement));
  if (target < 0 || current < 0) throw new Error(`no focused panel tab to move from to ${name}`);
  for (let i = current; i !== target; i += Math.sign(target - current))
    await page.keyboard.press(target > current ? 'ArrowRight' : 'ArrowLeft');
  await expect(page.getByRole('tab', { name })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByRole('tabpanel', { name })).toBeVisible();
}
