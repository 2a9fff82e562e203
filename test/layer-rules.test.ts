// The lint rules that keep the layers apart (eslint.config.js, ARCHITECTURE.md "Layers") still
// exist: probe sources linted with the project's own config must be refused where they cross a
// boundary and accepted where they do not. (test/core-purity.test.ts does the same for src/core's
// UI rule; test/layers.test.ts checks cycles and what the page reaches, which lint cannot see.)
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
// Probe files are not on disk, so the type-aware rules (which need a program) are off for them.
const eslint = new ESLint({
  cwd: root,
  overrideConfig: {
    languageOptions: { parserOptions: { projectService: false } },
    rules: Object.fromEntries(
      [
        'no-floating-promises',
        'no-unsafe-assignment',
        'no-unsafe-member-access',
        'no-unsafe-call',
        'no-unsafe-return',
        'no-unsafe-argument',
      ].map((rule) => [`@typescript-eslint/${rule}`, 'off']),
    ),
  },
});

async function restricted(source: string, filePath: string): Promise<boolean> {
  const [result] = await eslint.lintText(`${source}\nexport const probe = 1;\n`, { filePath });
  return result.messages.some((m) => m.severity === 2 && m.ruleId === 'no-restricted-imports');
}

describe('layer rules', () => {
  it.each([
    ['src/app/probe.ts', "import { StudioSession } from '../../workers/session';"],
    ['src/app/probe.ts', "import type { CheckpointRecord } from '../../workers/checkpoints';"],
    ['src/app/probe.ts', "import { x } from '../../workers/api';"],
    ['src/app/probe.ts', "import * as tf from '@tensorflow/tfjs';"],
    ['src/app/probe.ts', "import { claimsMarkdown } from '../../bench/lib/claimsReport';"],
    ['src/app/probe.ts', "import { Flags } from '../cli/lib/args';"],
    ['src/core/probe.ts', "import { markdownTable } from '../../bench/lib/stats';"],
    ['src/core/probe.ts', "import { trainBpe } from '../../scripts/bpe/train';"],
    ['workers/probe.ts', "import { run } from '../src/cli/commands/train';"],
    ['workers/probe.ts', "import { barChart } from '../bench/lib/svg';"],
    ['bench/probe.ts', "import { run } from '../src/cli/commands/eval';"],
    ['scripts/probe.ts', "import { main } from '../src/cli/main';"],
    ['src/cli/lib/probe.ts', "import { run } from '../commands/train';"],
  ])('refuses in %s: %s', async (file, line) => {
    expect(await restricted(line, file)).toBe(true);
  });

  it.each([
    ['src/app/probe.ts', "import type { RunSummary } from '../../workers/api';"],
    ['src/app/probe.ts', "import { pickTrainConfig } from '../core/train/config';"],
    ['src/app/probe.ts', "import claims from '../../bench/results/claims.json';"],
    ['workers/probe.ts', "import { Trainer } from '../src/core/train/trainer';"],
    ['bench/probe.ts', "import { Flags } from '../src/cli/lib/args';"],
    ['bench/probe.ts', "import { trainConfig } from '../src/core/train/config';"],
    ['scripts/pretrain/probe.test.ts', "import { run } from '../../src/cli/commands/eval';"],
    ['src/cli/commands/probe.ts', "import { Flags } from '../lib/args';"],
  ])('allows in %s: %s', async (file, line) => {
    expect(await restricted(line, file)).toBe(false);
  });
});
