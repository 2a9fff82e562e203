/**
 * Lets tfjs's threaded WebAssembly build start its threads from the bundled studio.
 * tfjs-backend-wasm 4.22 hands each thread the threaded module factory as text: init() in its
 * dist/backend_wasm.js puts `var WasmBackendModuleThreadedSimd = ` + factory.toString() in a Blob,
 * and every thread runs that Blob. Once Vite has bundled and minified the factory, its text refers
 * to names of the bundle it no longer sits in (its `typeof _scriptDir` test becomes `e!==void 0`),
 * and every thread stops on "e is not defined". So the factory's toString gives the file as
 * published instead, imported as text: it defines the factory and needs nothing around it.
 */
import threadedFactory from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js';
import publishedSource from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js?raw';

/** The factory as an expression, for tfjs to put after its `var WasmBackendModuleThreadedSimd = `. */
const factoryExpression = `(() => {\n${publishedSource}\nreturn WasmBackendModuleThreadedSimd;\n})()`;

/** Makes the text tfjs sends to its threads the published factory. Idempotent. */
export function sendPublishedFactoryToThreads(): void {
  threadedFactory.toString = () => factoryExpression;
}
