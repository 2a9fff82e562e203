import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

/**
 * The built studio's Content-Security-Policy. Scripts and workers come only from this origin
 * ('wasm-unsafe-eval' lets tfjs compile WebAssembly), and nothing may be fetched from elsewhere.
 * Styles allow inline attributes because chart libraries set them.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/**
 * Cross-origin isolation, for the dev server and `vite preview` alike: only an isolated page gets
 * SharedArrayBuffer, which tfjs's threaded WebAssembly needs (workers/wasmBackend.ts). Everything
 * the studio loads is from its own origin, so `require-corp` blocks nothing.
 */
const CROSS_ORIGIN_ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** Build only: the dev server injects inline scripts (React refresh) that this policy would block. */
function contentSecurityPolicy(): Plugin {
  return {
    name: 's2ft-content-security-policy',
    apply: 'build',
    transformIndexHtml: () => [
      {
        tag: 'meta',
        attrs: { 'http-equiv': 'Content-Security-Policy', content: CONTENT_SECURITY_POLICY },
        injectTo: 'head-prepend',
      },
    ],
  };
}

export default defineConfig({
  plugins: [react(), contentSecurityPolicy()],
  worker: { format: 'es' },
  // The worker's imports are not reachable from index.html; pre-bundle them up front so the dev
  // server does not re-optimise and reload the page the first time the worker starts.
  optimizeDeps: {
    entries: ['index.html', 'workers/*.worker.ts'],
  },
  build: {
    target: 'es2022',
    // tfjs with its WebGPU and WebGL backends is a few MB, all of it in the worker chunk.
    chunkSizeWarningLimit: 4096,
  },
  server: { host: '127.0.0.1', port: 5173, headers: CROSS_ORIGIN_ISOLATION },
  preview: { host: '127.0.0.1', port: 4173, headers: CROSS_ORIGIN_ISOLATION },
});
