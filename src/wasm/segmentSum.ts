/**
 * UnsortedSegmentSum for tfjs's wasm backend, which lacks it (tfjs-backend-wasm 4.22); training
 * needs it as the gradient of the embedding lookup (tf.gather):
 *   out[s, …] = Σ_{i : segmentIds[i] = s} x[i, …]
 */
import * as tf from '@tensorflow/tfjs';
import { heapOf, sizeOf } from './heap';

export function registerUnsortedSegmentSum(): void {
  if (tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const heap = heapOf(backend);
      const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
      const numSegments = (attrs as { numSegments: number }).numSegments;
      const rows = x.shape[0]; // N
      const width = sizeOf(x.shape.slice(1)); // product of the other dims
      const out = heap.makeOutput([numSegments, ...x.shape.slice(1)], x.dtype); // [S, …]
      const values = heap.typedArrayFromHeap(x); // [N·width]
      const ids = heap.typedArrayFromHeap(segmentIds); // [N]
      const sums = heap.typedArrayFromHeap(out); // [S·width]
      sums.fill(0);
      for (let i = 0; i < rows; i++) {
        const s = ids[i];
        if (s < 0 || s >= numSegments) continue; // as TF: out-of-range ids are dropped
        const from = i * width;
        const to = s * width;
        for (let j = 0; j < width; j++) sums[to + j] += values[from + j];
      }
      return out;
    },
  });
}
