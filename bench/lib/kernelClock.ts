/**
 * Per-kernel process CPU time of the active backend's kernels (Node): every registered kernel of
 * the backend is wrapped with a getrusage clock while `measure` runs. tf.profile reports wall time,
 * which on a shared machine counts the other processes' turns, and it times each customGrad
 * forward as one "unnamed scope" on top of the kernels inside it; these times add up.
 */
import * as tf from '@tensorflow/tfjs';
import { cpuMs } from './compare';

export interface KernelTimes {
  /** Process CPU ms of the whole measured function. */
  totalMs: number;
  /** Per kernel name: calls and CPU ms, largest first. */
  byName: { name: string; calls: number; ms: number }[];
}

/** Splits a kernel's calls into named groups (e.g. matmuls by role); the kernel's name when it returns null. */
export type KernelLabel = (kernelName: string, inputs: tf.NamedTensorInfoMap) => string | null;

export async function kernelCpuTimes(measure: () => Promise<void>, label?: KernelLabel): Promise<KernelTimes> {
  const backendName = tf.getBackend();
  const configs = tf.getKernelsForBackend(backendName);
  const totals = new Map<string, { name: string; calls: number; ms: number }>();
  for (const config of configs) {
    tf.unregisterKernel(config.kernelName, backendName);
    tf.registerKernel({
      ...config,
      kernelFunc: (args) => {
        const start = cpuMs();
        const out = config.kernelFunc(args);
        const name = label?.(config.kernelName, args.inputs) ?? config.kernelName;
        const entry = totals.get(name) ?? { name, calls: 0, ms: 0 };
        entry.calls += 1;
        entry.ms += cpuMs() - start;
        totals.set(name, entry);
        return out;
      },
    });
  }
  const start = cpuMs();
  try {
    await measure();
  } finally {
    for (const config of configs) {
      tf.unregisterKernel(config.kernelName, backendName);
      tf.registerKernel(config);
    }
  }
  return { totalMs: cpuMs() - start, byName: [...totals.values()].sort((a, b) => b.ms - a.ms) };
}
