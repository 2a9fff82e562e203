/**
 * BatchMatMul for tfjs's wasm backend, keeping every product on the backend's fast path.
 *
 * tfjs-backend-wasm 4.22 multiplies with XNNPACK only when neither operand is transposed and
 * there is one batch (batch_mat_mul_impl.cc); everything else falls to a scalar triple loop,
 * 5–40× slower (bench/PROFILE.md). XNNPACK packs the right operand once per tensor and keeps the
 * packing until that tensor is freed, so a frozen weight on the right costs its packing once.
 * This kernel therefore brings every product to that form:
 * - a transposed left operand (dyᵀ·x, a weight gradient; an activation) is transposed per call;
 * - a transposed right operand (x·Wᵀ, every linear's forward) is transposed, and the copy is kept
 *   for as long as the source lives once the same tensor comes back a second time (a frozen
 *   weight comes back every step; an activation never does), so XNNPACK's packing of it is kept
 *   too: the cost is one more copy of each frozen weight (two, with the packing) and none per step;
 * - a batched product (attention) runs as one product per batch entry on fresh operands.
 */
import * as tf from '@tensorflow/tfjs';
import { heapOf, sizeOf, transposeInto, type WasmHeapBackend } from './heap';

interface Attrs {
  transposeA: boolean;
  transposeB: boolean;
}

/** Transposed copies of right operands, keyed by their source's dataId (and shape). */
const kept = new Map<object, { copy: tf.TensorInfo; shape: string }>();
/** Right operands transposed once, awaiting a second use. */
const seen = new Map<object, string>();
const watched = new WeakSet<object>();

/** Drops a source's kept copy when the backend frees the source. */
function watchDisposals(backend: WasmHeapBackend): void {
  if (watched.has(backend)) return;
  watched.add(backend);
  const dispose = backend.disposeData.bind(backend);
  backend.disposeData = (dataId: object, force?: boolean): boolean => {
    const freed = dispose(dataId, force);
    if (!backend.dataIdMap.has(dataId)) {
      seen.delete(dataId);
      const hit = kept.get(dataId);
      if (hit) {
        kept.delete(dataId);
        dispose(hit.copy.dataId, true);
      }
    }
    return freed;
  };
}

/** The [c, r] transpose of the [r, c] matrix number `index` of x (its last two axes). */
function transposedSlice(backend: WasmHeapBackend, x: tf.TensorInfo, index: number): tf.TensorInfo {
  const [r, c] = x.shape.slice(-2);
  const copy = backend.makeOutput([c, r], 'float32');
  transposeInto(
    backend.typedArrayFromHeap(x) as Float32Array,
    index * r * c,
    backend.typedArrayFromHeap(copy) as Float32Array,
    0,
    r,
    c,
  );
  return copy;
}

/** Matrix number `index` of x (its last two axes) as a fresh [r, c] tensor. */
function slice(backend: WasmHeapBackend, x: tf.TensorInfo, index: number): tf.TensorInfo {
  const [r, c] = x.shape.slice(-2);
  const copy = backend.makeOutput([r, c], 'float32');
  const from = backend.typedArrayFromHeap(x) as Float32Array;
  (backend.typedArrayFromHeap(copy) as Float32Array).set(from.subarray(index * r * c, (index + 1) * r * c));
  return copy;
}

/** bᵀ of a single-matrix right operand, kept when b comes back (see the file comment). */
function transposedRight(backend: WasmHeapBackend, b: tf.TensorInfo): { info: tf.TensorInfo; owned: boolean } {
  const shape = b.shape.join(',');
  const hit = kept.get(b.dataId);
  if (hit && hit.shape === shape) return { info: hit.copy, owned: false };
  const copy = transposedSlice(backend, b, 0);
  if (seen.get(b.dataId) === shape) {
    seen.delete(b.dataId);
    kept.set(b.dataId, { copy, shape });
    return { info: copy, owned: false };
  }
  seen.set(b.dataId, shape);
  return { info: copy, owned: true };
}

export function registerContiguousMatMul(): void {
  const original = tf.getKernel('BatchMatMul', 'wasm');
  if (!original || (original as { contiguous?: true }).contiguous) return;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  const plain = (backend: tf.KernelBackend, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo =>
    original.kernelFunc({
      inputs: { a, b },
      backend,
      attrs: { transposeA: false, transposeB: false },
    }) as tf.TensorInfo;
  const config: tf.KernelConfig & { contiguous: true } = {
    kernelName: 'BatchMatMul',
    backendName: 'wasm',
    contiguous: true,
    setupFunc: original.setupFunc, // binds the wasm function
    kernelFunc: (args) => {
      const { inputs } = args;
      const backend = args.backend as tf.KernelBackend;
      const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = args.attrs as unknown as Attrs;
      const ra = a.shape.length,
        rb = b.shape.length;
      const M = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
      const K = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
      const Kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
      const N = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
      const batchA = sizeOf(a.shape.slice(0, -2)),
        batchB = sizeOf(b.shape.slice(0, -2));
      const batch = Math.max(batchA, batchB);
      // Anything but float32 operands whose batches match or broadcast from one: tfjs's own kernel (and its errors).
      if (
        a.dtype !== 'float32' ||
        b.dtype !== 'float32' ||
        K !== Kb ||
        (batchA !== batch && batchA !== 1) ||
        (batchB !== batch && batchB !== 1)
      )
        return original.kernelFunc(args);
      const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
      const heap = heapOf(backend);
      watchDisposals(heap);
      if (batch === 1) {
        const left = transposeA ? transposedSlice(heap, a, 0) : a; // [M, K]
        const right = transposeB ? transposedRight(heap, b) : { info: b, owned: false }; // [K, N]
        const out = plain(backend, left, right.info); // [M, N]
        if (transposeA) heap.disposeData(left.dataId);
        if (right.owned) heap.disposeData(right.info.dataId);
        out.shape = [...outer, M, N];
        return out;
      }
      const out = heap.makeOutput([...outer, M, N], 'float32'); // [batch, M, N]
      for (let i = 0; i < batch; i++) {
        // Fresh operands every time: XNNPACK keys its packing of the right operand by tensor.
        const left = transposeA ? transposedSlice(heap, a, batchA === 1 ? 0 : i) : slice(heap, a, batchA === 1 ? 0 : i);
        const right = transposeB
          ? transposedSlice(heap, b, batchB === 1 ? 0 : i)
          : slice(heap, b, batchB === 1 ? 0 : i);
        const product = plain(backend, left, right); // [M, N]
        (heap.typedArrayFromHeap(out) as Float32Array).set(heap.typedArrayFromHeap(product), i * M * N);
        for (const t of [left, right, product]) heap.disposeData(t.dataId);
      }
      return out;
    },
  };
  tf.registerKernel(config);
}
