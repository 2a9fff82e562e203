/**
 * The studio's CPU backend: tfjs WebAssembly with the training kernels of src/wasm. Its binaries
 * are served from the page's own origin (bundled by Vite), never from a CDN; tfjs picks the SIMD
 * build wherever WebAssembly SIMD validates (every current browser).
 * Not the multi-threaded build: tfjs starts its threads from the text of its module factory
 * (Function.prototype.toString into a Blob worker), and once Vite has bundled that factory the
 * text refers to names of the bundle it no longer sits in ("e is not defined" in every thread,
 * seen in a cross-origin isolated page). So the flag that would pick it is turned off.
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import plainWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import simdWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import { registerTrainingKernels } from '../src/wasm/kernels';
import type { WasmFeatures } from './api';

/** Starts the wasm backend; null when this browser cannot run it. */
export async function startWasm(): Promise<WasmFeatures | null> {
  registerTrainingKernels();
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  setWasmPaths({
    'tfjs-backend-wasm.wasm': plainWasm,
    'tfjs-backend-wasm-simd.wasm': simdWasm,
    'tfjs-backend-wasm-threaded-simd.wasm': simdWasm, // never fetched (see above)
  });
  if (!(await tf.setBackend('wasm'))) return null;
  return {
    simd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')),
    threads: getThreadsCount(),
  };
}
