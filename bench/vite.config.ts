import { defineConfig } from 'vite';

/** The bench-only page (bench/browser/index.html), built apart from the studio into tmp/bench-browser. */
export default defineConfig({
  root: 'bench/browser',
  base: './',
  build: { outDir: '../../tmp/bench-browser', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 8192 },
  preview: { host: '127.0.0.1', port: 4188, strictPort: true },
  logLevel: 'warn',
});
