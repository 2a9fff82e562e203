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

/**
 * Writes the transpose of the [rows, cols] matrix at `from[src…]` to `to[dst…]` as [cols, rows].
 * Eight rows at a time over a band of 64 columns: each output row gets 8 consecutive writes while
 * the 8 input rows are read in step, so neither side strides by a whole row per element (a
 * [2048, 128] transpose 1.8 → 0.25 ms against 32 × 32 tiles, bench/PROFILE.md §5.5).
 */
export function transposeInto(
  from: Float32Array,
  src: number,
  to: Float32Array,
  dst: number,
  rows: number,
  cols: number,
): void {
  const band = 64;
  for (let j0 = 0; j0 < cols; j0 += band) {
    const j1 = Math.min(j0 + band, cols);
    let i = 0;
    for (; i + 8 <= rows; i += 8) {
      const r0 = src + i * cols; // rows i … i + 7 start at r0 + m·cols
      const r1 = r0 + cols,
        r2 = r1 + cols,
        r3 = r2 + cols,
        r4 = r3 + cols,
        r5 = r4 + cols,
        r6 = r5 + cols,
        r7 = r6 + cols;
      for (let j = j0; j < j1; j++) {
        const o = dst + j * rows + i; // output row j, columns i … i + 7
        to[o] = from[r0 + j];
        to[o + 1] = from[r1 + j];
        to[o + 2] = from[r2 + j];
        to[o + 3] = from[r3 + j];
        to[o + 4] = from[r4 + j];
        to[o + 5] = from[r5 + j];
        to[o + 6] = from[r6 + j];
        to[o + 7] = from[r7 + j];
      }
    }
    for (; i < rows; i++) for (let j = j0; j < j1; j++) to[dst + j * rows + i] = from[src + i * cols + j];
  }
}
