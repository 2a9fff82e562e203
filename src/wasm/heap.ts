/**
 * The parts of tfjs's wasm backend (tfjs-backend-wasm 4.22, BackendWasm) that the replacement
 * kernels in this folder use: tensors live in the WebAssembly heap, and a kernel reads and writes
 * them through typed-array views. A view is detached when the heap grows, so a kernel takes its
 * views only after its last allocation.
 */
import type * as tf from '@tensorflow/tfjs';

export interface WasmHeapBackend {
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  dataIdMap: { has(dataId: object): boolean };
}

export const heapOf = (backend: unknown) => backend as WasmHeapBackend;

export const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Writes the transpose of the [rows, cols] matrix at `from[src…]` to `to[dst…]` as [cols, rows]. */
export function transposeInto(
  from: Float32Array,
  src: number,
  to: Float32Array,
  dst: number,
  rows: number,
  cols: number,
): void {
  // 32 × 32 tiles keep both the read and the strided write within cache lines.
  const tile = 32;
  for (let i0 = 0; i0 < rows; i0 += tile) {
    const i1 = Math.min(i0 + tile, rows);
    for (let j0 = 0; j0 < cols; j0 += tile) {
      const j1 = Math.min(j0 + tile, cols);
      for (let i = i0; i < i1; i++) {
        const row = src + i * cols;
        for (let j = j0; j < j1; j++) to[dst + j * rows + i] = from[row + j];
      }
    }
  }
}
