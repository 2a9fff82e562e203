/**
 * The elements of a linear weight W [out, in] that one S²FT module update touches: columns J of
 * every row, or rows I of every column, |J|·out (|I|·in) elements. Two ways to write them:
 *   - in host memory (`writeTouched`): the cpu backend keeps a tensor's data in a Float32Array,
 *     wasm in its heap, both reachable from JavaScript; O(touched elements), nothing else read;
 *   - as a new tensor on any backend (`withUpdate`): on cpu/wasm one copy plus the host write, on
 *     WebGL/WebGPU the effective weight by one gather and one add (`withUpdateByGather`), never scatterND: WebGL's
 *     scatterND
 *     loops over every update for every output element (63 s at hidden 256, bench/PROFILE.md §4).
 *
 * Writing into a tensor is only safe when nothing else sees its data: `ownedCopy` makes a tensor
 * whose data no other tensor or array holds, `ownsData` checks the backend's reference count
 * (reshape and tf.variable share the data on every backend, tf.clone on all but wasm; on cpu,
 * tf.tensor(array) keeps the caller's array itself, which no count can see, so only copies made
 * by ownedCopy are ever written).
 */
import * as tf from '@tensorflow/tfjs';
import { effectiveWeight, makeBlockIndex } from './sparseLinear';
import type { BlockAxis } from './types';

interface CpuData {
  data: { get(dataId: object): { values?: unknown } | undefined };
}
interface WasmHeap {
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}
interface RefCounts {
  refCount?(dataId: object): number;
}

/**
 * W's data itself (not a copy) on the cpu and wasm backends, else null. A wasm view is valid only
 * until the next tensor allocation (the heap may grow): take it after allocating, use it at once.
 */
export function hostValues(W: tf.Tensor): Float32Array | null {
  if (W.dtype !== 'float32') return null;
  const backend = tf.backend();
  switch (tf.getBackend()) {
    case 'cpu': {
      const values = (backend as unknown as CpuData).data.get(W.dataId)?.values;
      return values instanceof Float32Array ? values : null;
    }
    case 'wasm':
      return (backend as unknown as WasmHeap).typedArrayFromHeap(W);
    default:
      return null;
  }
}

/** True when the backend counts exactly one reference to W's data: no clone, reshape or variable shares it. */
export function ownsData(W: tf.Tensor): boolean {
  const backend = tf.backend() as unknown as RefCounts;
  return typeof backend.refCount === 'function' && backend.refCount(W.dataId) === 1;
}

/** A copy of W whose data no other tensor or array holds, so it may be written in place. */
export function ownedCopy(W: tf.Tensor2D): tf.Tensor2D {
  const clone = tf.clone(W);
  if (clone.dataId !== W.dataId) return clone; // wasm: Identity copies into a new heap block
  clone.dispose(); // cpu (and GPUs): the clone would share W's data
  return tf.tensor2d(W.dataSync().slice(), W.shape); // cpu keeps this new array as the tensor's data
}

/**
 * dst[e] = src[e] + update[e] for every touched element e of an [out, inDim] weight, or
 * dst[e] = src[e] when update is null (restoring from a base). dst and src may be the same array.
 *   columns: indices J [k], update [out, k]     rows: indices I [k], update [k, inDim]
 */
export function writeTouched(
  dst: Float32Array,
  src: Float32Array,
  inDim: number,
  axis: BlockAxis,
  indices: Int32Array,
  update: Float32Array | null,
): void {
  if (axis === 'columns') {
    writeColumns(dst, src, inDim, indices, update);
    return;
  }
  for (let p = 0; p < indices.length; p++) {
    const at = indices[p] * inDim; // row I[p], contiguous
    if (update === null) dst.set(src.subarray(at, at + inDim), at);
    else for (let c = 0, u = p * inDim; c < inDim; c++) dst[at + c] = src[at + c] + update[u + c];
  }
}

/**
 * The columns case of writeTouched, walking down four columns at a time: each column is a
 * constant-stride stream with its own load and store, which the hardware prefetcher follows.
 * Row by row (k scattered elements per row) was 4–5× slower at hidden 4096 with random columns
 * on wasm (bench/lib/switching.ts); a loop over a variable number of columns loses the gain.
 */
function writeColumns(
  dst: Float32Array,
  src: Float32Array,
  inDim: number,
  indices: Int32Array,
  update: Float32Array | null,
): void {
  const k = indices.length,
    size = dst.length;
  let p = 0;
  for (; p + 3 < k; p += 4) {
    const j0 = indices[p],
      j1 = indices[p + 1],
      j2 = indices[p + 2],
      j3 = indices[p + 3];
    if (update === null) {
      for (let e = 0; e < size; e += inDim) {
        dst[e + j0] = src[e + j0];
        dst[e + j1] = src[e + j1];
        dst[e + j2] = src[e + j2];
        dst[e + j3] = src[e + j3];
      }
    } else {
      for (let e = 0, u = p; e < size; e += inDim, u += k) {
        dst[e + j0] = src[e + j0] + update[u];
        dst[e + j1] = src[e + j1] + update[u + 1];
        dst[e + j2] = src[e + j2] + update[u + 2];
        dst[e + j3] = src[e + j3] + update[u + 3];
      }
    }
  }
  for (; p < k; p++) {
    const j = indices[p];
    if (update === null) for (let e = j; e < size; e += inDim) dst[e] = src[e];
    else for (let e = j, u = p; e < size; e += inDim, u += k) dst[e] = src[e] + update[u];
  }
}

/** W + update at the touched elements as a new tensor (data it owns); W itself is not written. */
export function withUpdate(W: tf.Tensor2D, axis: BlockAxis, indices: Int32Array, update: Float32Array): tf.Tensor2D {
  if (hostValues(W) === null) return withUpdateByGather(W, axis, indices, update);
  const copy = ownedCopy(W);
  const values = hostValues(copy)!; // taken after the copy's allocation
  writeTouched(values, values, W.shape[1], axis, indices, update);
  return copy;
}

/**
 * W + update without writing memory by hand, for backends that keep tensors on the GPU: the
 * effective weight the S²FT linears compute with (sparseLinear.ts effectiveWeight: the update
 * spread over W's width by one gather, then one add). Two passes over W, all on the device; only
 * the update and an [in] (or [out]) slot map are uploaded.
 * Why not a dense [out, in] update built on the CPU and added: it fills out·in floats in JS and
 * moves them across the bus, where this path moves |J|·out. Measured only on SwiftShader (an
 * emulated GPU whose upload is a memcpy and whose shaders run at CPU speed), the dense upload
 * was faster on WebGPU (hidden 1024: 67 ms vs 438 ms), slower on WebGL (415 ms vs 296 ms); a
 * real GPU, not measured here, runs device passes far faster than it uploads. scatterND is out:
 * WebGL's visits every update for every output element (see above).
 */
export function withUpdateByGather(
  W: tf.Tensor2D,
  axis: BlockAxis,
  indices: Int32Array,
  update: Float32Array,
): tf.Tensor2D {
  const [out, inDim] = W.shape;
  const index = makeBlockIndex(indices, axis === 'columns' ? inDim : out);
  try {
    return tf.tidy(() => {
      const delta = tf.tensor2d(update, axis === 'columns' ? [out, indices.length] : [indices.length, inDim]); // [out, k] | [k, in]
      return effectiveWeight(W, delta, index, axis); // [out, in]
    });
  } finally {
    index.dispose();
  }
}
