import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const page = (name: string) => fileURLToPath(new URL(`browser/${name}`, import.meta.url));

/**
 * The bench-only pages (bench/browser/index.html: the method comparison; fingerprint.html: the
 * fingerprint's cost), built apart from the studio into tmp/bench-browser.
 */
export default defineConfig({
  root: 'bench/browser',
  base: './',
  build: {
    outDir: '../../tmp/bench-browser',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 8192,
    rollupOptions: { input: [page('index.html'), page('fingerprint.html')] },
  },
  preview: { host: '127.0.0.1', port: 4188, strictPort: true },
  logLevel: 'warn',
});
