/**
 * What one profiled training step spends, per kernel name: total time, bytes it allocated,
 * call count; and the kernel at which the step's tensor bytes peaked (with its position in the
 * kernel sequence, which tells forward from backward).
 */
import type * as tf from '@tensorflow/tfjs';

/** What tf.profile resolves to (tfjs does not export the type by name). */
export type ProfileInfo = Awaited<ReturnType<typeof tf.profile>>;

export interface KernelSummary {
  kernels: number;
  totalMs: number;
  peakBytes: number;
  /** Index and name of the kernel after which the bytes peaked, and the count of kernels. */
  peakAt: { index: number; name: string };
  /** Bytes held after each 1/40 of the kernel sequence (a coarse memory timeline). */
  timeline: number[];
  byName: { name: string; calls: number; ms: number; bytesAdded: number }[];
}

export function kernelSummary(info: ProfileInfo): KernelSummary {
  const ks = info.kernels;
  const byName = new Map<string, { name: string; calls: number; ms: number; bytesAdded: number }>();
  let peak = -1,
    peakIndex = 0;
  ks.forEach((k, i) => {
    const e = byName.get(k.name) ?? { name: k.name, calls: 0, ms: 0, bytesAdded: 0 };
    e.calls += 1;
    e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    e.bytesAdded += Math.max(0, k.bytesAdded);
    byName.set(k.name, e);
    if (k.totalBytesSnapshot > peak) {
      peak = k.totalBytesSnapshot;
      peakIndex = i;
    }
  });
  const list = [...byName.values()].sort((a, b) => b.ms - a.ms);
  const timeline = Array.from(
    { length: 40 },
    (_, i) => ks[Math.min(ks.length - 1, Math.floor(((i + 1) * ks.length) / 40) - 1)]?.totalBytesSnapshot ?? 0,
  );
  return {
    kernels: ks.length,
    totalMs: list.reduce((s, e) => s + e.ms, 0),
    peakBytes: peak,
    peakAt: { index: peakIndex, name: ks[peakIndex]?.name ?? '' },
    timeline,
    byName: list,
  };
}
