/**
 * Identity for tfjs's wasm backend that shares its input's buffer, as the cpu, WebGL and WebGPU
 * backends do. tfjs-backend-wasm 4.22 copies instead, and tfjs clones every tensor a customGrad
 * op saves for its backward: the copies cost a pass over each saved activation (the [N, V]
 * probabilities of the loss among them) and hold a second copy of it until the backward.
 * Sharing is safe because tensors are immutable: the buffer is reference-counted and freed with
 * its last tensor.
 */
import * as tf from '@tensorflow/tfjs';

interface RefCountingBackend {
  incRef(dataId: object): void;
}

export function registerSharingIdentity(): void {
  const original = tf.getKernel('Identity', 'wasm');
  if (!original || (original as { sharing?: true }).sharing) return;
  tf.unregisterKernel('Identity', 'wasm');
  const config: tf.KernelConfig & { sharing: true } = {
    kernelName: 'Identity',
    backendName: 'wasm',
    sharing: true,
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      if (x.dtype === 'string') return original.kernelFunc(args);
      (args.backend as unknown as RefCountingBackend).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  };
  tf.registerKernel(config);
}
