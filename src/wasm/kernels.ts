/**
 * The kernels tfjs's wasm backend needs for training, registered over its own (Node and the
 * studio's worker alike): see segmentSum.ts, gather.ts, matMul.ts, identity.ts and sum.ts. Idempotent.
 */
import '@tensorflow/tfjs-backend-wasm';
import { registerRunCopyGather } from './gather';
import { registerSharingIdentity } from './identity';
import { registerContiguousMatMul } from './matMul';
import { registerUnsortedSegmentSum } from './segmentSum';
import { registerLeadingAxesSum } from './sum';

export function registerTrainingKernels(): void {
  registerUnsortedSegmentSum();
  registerContiguousMatMul();
  registerRunCopyGather();
  registerSharingIdentity();
  registerLeadingAxesSum();
}
