/**
 * The kernels tfjs's wasm backend needs for training, registered over its own (Node and the
 * studio's worker alike): see segmentSum.ts, gather.ts, matMul.ts and identity.ts. Idempotent.
 */
import '@tensorflow/tfjs-backend-wasm';
import { registerRunCopyGather } from './gather';
import { registerSharingIdentity } from './identity';
import { registerContiguousMatMul } from './matMul';
import { registerUnsortedSegmentSum } from './segmentSum';

export function registerTrainingKernels(): void {
  registerUnsortedSegmentSum();
  registerContiguousMatMul();
  registerRunCopyGather();
  registerSharingIdentity();
}
