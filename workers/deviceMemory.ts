/** Tensor memory as the active backend reports it. */
import * as tf from '@tensorflow/tfjs';

export interface DeviceMemory {
  /** Bytes held by live tensors. */
  numBytes: number;
  numTensors: number;
  /** Bytes the GPU backend has allocated (its pool included); null on the cpu backend. */
  bytesAllocated: number | null;
}

export function deviceMemory(): DeviceMemory {
  const m = tf.memory() as tf.MemoryInfo & { numBytesInGPUAllocated?: number; numBytesAllocatedInGPU?: number };
  // WebGL reports numBytesInGPUAllocated, WebGPU numBytesAllocatedInGPU; cpu neither.
  return {
    numBytes: m.numBytes,
    numTensors: m.numTensors,
    bytesAllocated: m.numBytesInGPUAllocated ?? m.numBytesAllocatedInGPU ?? null,
  };
}
