// `npm test` enforces that src/core stays pure: this lints probe sources with the project's own
// ESLint config and fails if the rule that forbids UI, worker and CLI imports in src/core is gone.
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

async function ruleHits(source: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath });
  return result.messages.filter((m) => m.severity === 2).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('src/core purity rule', () => {
  const forbidden = [
    "import { useState } from 'react';",
    "import { createRoot } from 'react-dom/client';",
    "import { create } from 'zustand';",
    "import { LineChart } from 'recharts';",
    "import * as Comlink from 'comlink';",
    "import { useStudio } from '../app/store';",
    "import type { TrainingWorkerApi } from '../../workers/api';",
    "import { main } from '../cli/main';",
  ];

  it.each(forbidden)('rejects %s in src/core', async (line) => {
    const hits = await ruleHits(`${line}\nexport const probe = 1;\n`, 'src/core/purity-probe.ts');
    expect(hits.some((h) => h.startsWith('no-restricted-imports'))).toBe(true);
  });

  it('rejects DOM globals in src/core', async () => {
    const hits = await ruleHits('export const title = document.title;\n', 'src/core/purity-probe.ts');
    expect(hits.some((h) => h.startsWith('no-restricted-globals'))).toBe(true);
  });

  it('allows tfjs and core-relative imports in src/core, and React in src/app', async () => {
    const core =
      "import * as tf from '@tensorflow/tfjs';\nimport { UserError } from './errors';\nexport const probe = [tf, UserError];\n";
    expect(await ruleHits(core, 'src/core/purity-probe.ts')).toEqual([]);
    const app = "import { useState } from 'react';\nexport const probe = useState;\n";
    expect(await ruleHits(app, 'src/app/purity-probe.ts')).toEqual([]);
  });
});
