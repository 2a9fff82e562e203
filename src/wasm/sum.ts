/**
 * Sum for tfjs's wasm backend over leading axes (a column sum: RMSNorm's dw = Σ_rows, a bias
 * gradient), adding whole rows in place. tfjs-backend-wasm 4.22 transposes the reduced axes to the
 * end first: a [2048, 128] column sum took ~3 ms, 30× a sum over the last axis (bench/PROFILE.md §5.5).
 * Rows are added in float64 (JavaScript numbers), then rounded once. Any other reduction: tfjs's own kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { heapOf, sizeOf } from './heap';

export function registerLeadingAxesSum(): void {
  const original = tf.getKernel('Sum', 'wasm');
  if (!original || (original as { leading?: true }).leading) return;
  tf.unregisterKernel('Sum', 'wasm');
  const config: tf.KernelConfig & { leading: true } = {
    kernelName: 'Sum',
    backendName: 'wasm',
    leading: true,
    setupFunc: original.setupFunc,
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
      const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
      const k = axes.length; // axes 0 … k−1 reduced, the rest kept
      if (x.dtype !== 'float32' || k === 0 || k === x.shape.length || axes.some((a, i) => a !== i))
        return original.kernelFunc(args);
      const heap = heapOf(args.backend);
      const rows = sizeOf(x.shape.slice(0, k)); // Π reduced dims
      const width = sizeOf(x.shape.slice(k)); // Π kept dims: one row
      const out = heap.makeOutput([...(keepDims ? axes.map(() => 1) : []), ...x.shape.slice(k)], 'float32');
      const from = heap.typedArrayFromHeap(x); // [rows, width]
      const acc = new Float64Array(width); // [width]
      let r = 0;
      for (; r + 4 <= rows; r += 4) {
        // Four rows per pass over acc: a [2048, 128] sum 0.45 → 0.19 ms against one row at a time.
        const r0 = r * width,
          r1 = r0 + width,
          r2 = r1 + width,
          r3 = r2 + width;
        for (let j = 0; j < width; j++) acc[j] += from[r0 + j] + from[r1 + j] + from[r2 + j] + from[r3 + j];
      }
      for (; r < rows; r++) for (let j = 0; j < width; j++) acc[j] += from[r * width + j];
      heap.typedArrayFromHeap(out).set(acc); // [width], rounded to float32
      return out;
    },
  };
  tf.registerKernel(config);
}
