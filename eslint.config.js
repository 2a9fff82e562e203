// Lint rules. The ones that matter most keep the layers apart (ARCHITECTURE.md "Layers"): src/core is
// pure (tfjs + plain TypeScript) and imports nothing from the UI, the worker, the CLI or UI
// libraries; the page (src/app) sees the worker only through its API's types; nothing the studio or
// the CLI ships imports the benchmarks or the scripts; bench and scripts use the CLI only through
// src/cli/lib, below the commands. test/core-purity.test.ts and test/layer-rules.test.ts fail if a
// rule is gone; test/layers.test.ts checks what lint cannot (cycles, what the page reaches).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import prettier from 'eslint-config-prettier';

const uiLibraries = ['react', 'react-dom', 'react-dom/*', 'zustand', 'zustand/*', 'recharts', 'comlink'];

/** Benchmarks, scripts and the CLI: no module the studio or the core ships may import them (results data aside). */
const toolsAbove = {
  group: ['**/bench/**', '!**/bench/results', '!**/bench/results/*.json', '**/scripts/**', '**/cli/**', '**/cli'],
  message: 'src/core, src/app and workers/ must not import bench/, scripts/ or src/cli (ARCHITECTURE.md "Layers").',
};

export default tseslint.config(
  {
    ignores: [
      'dist',
      'tmp',
      'node_modules',
      'bench/results',
      'test-results',
      'playwright-report',
      'public',
      'recipe/**/*.py',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Prettier wraps code at 120; this catches the comments it leaves alone. A string or template is
      // kept whole so a message can be found with grep.
      'max-len': [
        'error',
        { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true },
      ],
    },
  },
  {
    // Type-aware rules on what ships and what measures: a promise nobody awaits or catches, and an
    // `any` flowing into typed code. Tests and e2e specs are left out: they parse files and
    // command output (JSON.parse is `any`) and then assert on every field they read.
    files: ['src/**/*.{ts,tsx}', 'workers/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    ignores: ['**/*.test.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unsafe-assignment': 'error',
      '@typescript-eslint/no-unsafe-member-access': 'error',
      '@typescript-eslint/no-unsafe-call': 'error',
      '@typescript-eslint/no-unsafe-return': 'error',
      '@typescript-eslint/no-unsafe-argument': 'error',
    },
  },
  {
    files: ['src/app/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: reactHooks.configs.recommended.rules,
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/app/**', '**/app', '**/workers/**', '**/workers', '**/cli/**', '**/cli'],
              message: 'src/core is the pure core: it must not import from src/app, workers or src/cli.',
            },
            { group: uiLibraries, message: 'src/core must not import UI or worker libraries.' },
            toolsAbove,
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'document', message: 'src/core has no DOM.' },
        { name: 'window', message: 'src/core has no DOM.' },
      ],
    },
  },
  {
    files: ['src/app/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/workers/*', '!**/workers/api'],
              message: 'src/app talks to the worker through workers/api.ts (types) and the comlink client only.',
            },
            {
              group: ['**/workers/api'],
              allowTypeImports: true,
              message: 'src/app imports only types from workers/api.ts.',
            },
            { group: ['@tensorflow/*'], message: 'tfjs runs in the worker; the page never loads it.' },
            toolsAbove,
          ],
        },
      ],
    },
  },
  {
    files: ['workers/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [toolsAbove] }] },
  },
  {
    files: ['bench/**/*.ts', 'scripts/**/*.ts'],
    // A test may drive the CLI the way a person does (scripts/pretrain/pretrain.test.ts runs `cli eval`).
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/src/cli/**', '!**/src/cli/lib', '!**/src/cli/lib/**'],
              message: 'bench/ and scripts/ use the CLI only through src/cli/lib (its helpers, below the commands).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/cli/lib/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../commands/**', '../main', '../command'],
              message: 'src/cli/lib sits below the commands: it must not import them.',
            },
          ],
        },
      ],
    },
  },
);
