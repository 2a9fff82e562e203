/**
 * The tfjs backend of everything that runs in Node (the command line, the benchmarks, the
 * scripts): WebAssembly with SIMD and the training kernels of src/wasm. tfjs-backend-wasm 4.22
 * never starts its threaded build in Node (flags_wasm: WASM_HAS_MULTITHREAD_SUPPORT is false
 * when IS_NODE, tensorflow/tfjs#3830), so it runs on one thread. The unit tests that compare with
 * float64 references stay on `cpu` (see README); src/wasm/kernels.test.ts checks wasm's
 * gradients against it.
 */
import * as tf from '@tensorflow/tfjs';
import { registerTrainingKernels } from '../../wasm/kernels';

export const NODE_BACKEND = 'wasm';

export async function initNodeBackend(): Promise<string> {
  // Production mode silences tfjs's console banner (about tfjs-node), so a user error stays one line on stderr.
  tf.enableProdMode();
  registerTrainingKernels();
  if (tf.getBackend() !== NODE_BACKEND && !(await tf.setBackend(NODE_BACKEND)))
    throw new Error(`tfjs could not start its ${NODE_BACKEND} backend`);
  await tf.ready();
  return tf.getBackend();
}

/** One line on the running backend, e.g. "wasm (SIMD, 1 thread)", for --verbose and the benchmarks' logs. */
export async function describeBackend(): Promise<string> {
  const name = tf.getBackend();
  if (name !== 'wasm') return name;
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  return `wasm (${simd ? 'SIMD' : 'no SIMD'}, ${threads ? 'threads' : '1 thread'})`;
}
