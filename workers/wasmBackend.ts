/**
 * The studio's CPU backend: tfjs WebAssembly with the training kernels of src/wasm. Its binaries
 * are served from the page's own origin (bundled by Vite), never from a CDN; tfjs picks the SIMD
 * build wherever WebAssembly SIMD validates (every current browser).
 * Threads need SharedArrayBuffer, which a browser gives only to a cross-origin isolated page (the
 * COOP and COEP headers of vite.config.ts; README, "Hosting the built studio"). There tfjs runs its
 * threaded SIMD build, whose threads start from the factory text wasmThreadSource.ts provides;
 * elsewhere, or when the threaded build fails or hangs while starting, the single-threaded SIMD
 * build, and the backend's details say why.
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import plainWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import simdWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import threadedSimdWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { registerTrainingKernels } from '../src/wasm/kernels';
import type { WasmFeatures } from './api';
import { settleWithin } from './settleWithin';
import { sendPublishedFactoryToThreads } from './wasmThreadSource';

/** How long the threaded build may take to start before one thread is used: a late start only costs speed. */
export const THREADED_START_MS = 20_000;

/** Starts the wasm backend; null when this browser cannot run it. */
export async function startWasm(): Promise<WasmFeatures | null> {
  registerTrainingKernels();
  sendPublishedFactoryToThreads();
  setWasmPaths({
    'tfjs-backend-wasm.wasm': plainWasm,
    'tfjs-backend-wasm-simd.wasm': simdWasm,
    'tfjs-backend-wasm-threaded-simd.wasm': threadedSimdWasm,
  });
  const oneThread = await startThreaded();
  if (oneThread === null) return features(null);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  if (!(await tf.setBackend('wasm'))) return null;
  return features(oneThread);
}

/** null once the threaded build runs; otherwise why the studio runs on one thread (after "because"). */
async function startThreaded(): Promise<string | null> {
  // tfjs's own test asks only whether a SharedArrayBuffer can be posted; the page must be isolated.
  if (!globalThis.crossOriginIsolated)
    return 'the page is not cross-origin isolated (its server sends no COOP and COEP headers)';
  if (!(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'))) return "this browser's WebAssembly has no threads";
  const outcome = await settleWithin(tf.setBackend('wasm'), THREADED_START_MS);
  if (outcome === 'started') return null;
  // The next setBackend starts a fresh init; tfjs drops what an abandoned one resolves to later.
  return outcome === 'timeout'
    ? `the threaded build did not start within ${THREADED_START_MS / 1000} s`
    : "the threaded build failed to start (the console has tfjs's message)";
}

async function features(oneThread: string | null): Promise<WasmFeatures> {
  return {
    simd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')),
    threads: getThreadsCount(),
    oneThread,
  };
}
