/**
 * The studio's CPU backend: tfjs WebAssembly with the training kernels of src/wasm. Its binaries
 * are served from the page's own origin (bundled by Vite), never from a CDN; tfjs picks the SIMD
 * build wherever WebAssembly SIMD validates (every current browser).
 * Threads need SharedArrayBuffer, which a browser gives only to a cross-origin isolated page (the
 * COOP and COEP headers of vite.config.ts; README, "Browser requirements"). There tfjs runs its
 * threaded SIMD build, whose threads start from the factory text wasmThreadSource.ts provides;
 * elsewhere the single-threaded SIMD build.
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import plainWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import simdWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import threadedSimdWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { registerTrainingKernels } from '../src/wasm/kernels';
import type { WasmFeatures } from './api';
import { sendPublishedFactoryToThreads } from './wasmThreadSource';

/** Starts the wasm backend; null when this browser cannot run it. */
export async function startWasm(): Promise<WasmFeatures | null> {
  registerTrainingKernels();
  // tfjs's own test asks only whether a SharedArrayBuffer can be posted; the page must be isolated.
  if (!globalThis.crossOriginIsolated) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  sendPublishedFactoryToThreads();
  setWasmPaths({
    'tfjs-backend-wasm.wasm': plainWasm,
    'tfjs-backend-wasm-simd.wasm': simdWasm,
    'tfjs-backend-wasm-threaded-simd.wasm': threadedSimdWasm,
  });
  if (!(await tf.setBackend('wasm'))) return null;
  return {
    simd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')),
    threads: getThreadsCount(),
  };
}
