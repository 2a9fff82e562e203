/**
 * The tfjs WebAssembly backend for Node, which runs the pretraining matmuls about 4× faster than
 * the `cpu` backend here, with two repairs:
 * - tfjs 4.22's wasm backend lacks one kernel that training needs: UnsortedSegmentSum, the
 *   gradient of the embedding lookup (tf.gather). It is registered here in plain JavaScript over
 *   the backend's heap: out[s, …] = Σ_{i : segmentIds[i] = s} x[i, …].
 * - its GatherV2 copies element by element (~35 M elements/s: 23 ms to spread an S²FT block over
 *   a 512 × 1536 weight); it is replaced by a JavaScript gather that copies whole contiguous runs.
 * - its BatchMatMul is 5–40× slower when an operand is transposed (x·Wᵀ, every linear's forward;
 *   dyᵀ·x, every weight gradient; bench/PROFILE.md §3.1) than on contiguous operands. The kernel is
 *   wrapped to transpose such an operand explicitly first (one O(size) copy, freed at once).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

interface WasmHeapBackend {
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

function registerUnsortedSegmentSum(): void {
  if (tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const heap = backend as unknown as WasmHeapBackend;
      const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
      const numSegments = (attrs as { numSegments: number }).numSegments;
      const rows = x.shape[0]; // N
      const width = x.shape.slice(1).reduce((a, b) => a * b, 1); // product of the other dims
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

function registerRunCopyGather(): void {
  const original = tf.getKernel('GatherV2', 'wasm');
  if (!original || (original as { runCopy?: true }).runCopy) return;
  tf.unregisterKernel('GatherV2', 'wasm');
  const config: tf.KernelConfig & { runCopy: true } = {
    kernelName: 'GatherV2',
    backendName: 'wasm',
    runCopy: true,
    setupFunc: original.setupFunc,
    kernelFunc: (args) => {
      const { inputs, backend, attrs } = args;
      const { x, indices } = inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
      const { axis: axisAttr, batchDims } = attrs as unknown as { axis: number; batchDims: number };
      if (batchDims !== 0) return original.kernelFunc(args);
      const heap = backend as unknown as WasmHeapBackend;
      const axis = axisAttr < 0 ? axisAttr + x.shape.length : axisAttr;
      const outer = x.shape.slice(0, axis).reduce((a, b) => a * b, 1); // Π dims before the axis
      const n = x.shape[axis]; // length of the axis
      const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1); // Π dims after it: one run
      const ids = heap.typedArrayFromHeap(indices); // [m]
      const m = ids.length;
      for (let i = 0; i < m; i++) {
        if (ids[i] < 0 || ids[i] >= n) throw new Error(`GatherV2: index ${ids[i]} is not in [0, ${n - 1}]`);
      }
      const out = heap.makeOutput([...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)], x.dtype);
      const from = heap.typedArrayFromHeap(x); // [outer, n, inner]
      const to = heap.typedArrayFromHeap(out); // [outer, m, inner]
      for (let o = 0; o < outer; o++) {
        const src = o * n * inner,
          dst = o * m * inner;
        if (inner === 1) {
          for (let i = 0; i < m; i++) to[dst + i] = from[src + ids[i]];
        } else {
          for (let i = 0; i < m; i++)
            to.set(from.subarray(src + ids[i] * inner, src + (ids[i] + 1) * inner), dst + i * inner);
        }
      }
      return out;
    },
  };
  tf.registerKernel(config);
}

/** Rank-r permutation that swaps the last two axes. */
function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return perm;
}

function registerContiguousBatchMatMul(): void {
  const original = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!original || !transpose || (original as { contiguous?: true }).contiguous) return;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  const config: tf.KernelConfig & { contiguous: true } = {
    kernelName: 'BatchMatMul',
    backendName: 'wasm',
    contiguous: true,
    setupFunc: original.setupFunc, // binds the wasm function
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const copies: tf.TensorInfo[] = [];
      const contiguous = (t: tf.TensorInfo, transposed: boolean): tf.TensorInfo => {
        if (!transposed) return t;
        const copy = transpose.kernelFunc({
          inputs: { x: t },
          backend,
          attrs: { perm: swapLastTwo(t.shape.length) },
        }) as tf.TensorInfo;
        copies.push(copy);
        return copy;
      };
      const out = original.kernelFunc({
        inputs: { a: contiguous(a, transposeA), b: contiguous(b, transposeB) },
        backend,
        attrs: { ...attrs, transposeA: false, transposeB: false },
      }) as tf.TensorInfo;
      for (const copy of copies) (backend as tf.KernelBackend).disposeData(copy.dataId);
      return out;
    },
  };
  tf.registerKernel(config);
}

/** Switches tfjs to the wasm backend (with the missing kernel) and returns its name. */
export async function useWasmBackend(): Promise<string> {
  registerUnsortedSegmentSum();
  registerContiguousBatchMatMul();
  registerRunCopyGather();
  await tf.setBackend('wasm');
  await tf.ready();
  return tf.getBackend();
}
