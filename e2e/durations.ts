/**
 * A Playwright reporter that ends the run with each spec file's duration, longest first, and the
 * total: the numbers every e2e wait's headroom is sized against (CONTRIBUTING.md).
 */
import type { Reporter, TestCase, TestResult } from '@playwright/test/reporter';

export default class Durations implements Reporter {
  private readonly perFile = new Map<string, { ms: number; tests: number; failed: number }>();

  onTestEnd(test: TestCase, result: TestResult): void {
    const file = test.location.file.replace(/^.*[\\/]e2e[\\/]/, 'e2e/');
    const entry = this.perFile.get(file) ?? { ms: 0, tests: 0, failed: 0 };
    entry.ms += result.duration;
    entry.tests++;
    if (result.status !== 'passed' && result.status !== 'skipped') entry.failed++;
    this.perFile.set(file, entry);
  }

  onEnd(): void {
    const rows = [...this.perFile].sort((a, b) => b[1].ms - a[1].ms);
    const total = rows.reduce((sum, [, e]) => sum + e.ms, 0);
    const minutes = (ms: number) => `${(ms / 60_000).toFixed(1).padStart(5)} min`;
    const lines = rows.map(
      ([file, e]) =>
        `  ${minutes(e.ms)}  ${file} (${e.tests} test${e.tests === 1 ? '' : 's'}${e.failed ? `, ${e.failed} failed` : ''})`,
    );
    console.log(`\nSpec durations:\n${lines.join('\n')}\n  ${minutes(total)}  in all\n`);
  }

  printsToStdio(): boolean {
    return false;
  }
}
