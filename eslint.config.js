// Lint rules. The one that matters most: src/core is pure (tfjs + plain TypeScript) and
// imports nothing from the UI, the worker, the CLI or UI libraries.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import prettier from 'eslint-config-prettier';

const uiLibraries = ['react', 'react-dom', 'react-dom/*', 'zustand', 'zustand/*', 'recharts', 'comlink'];

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
);
