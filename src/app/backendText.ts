/** How the active tfjs backend is described to a person: badge label, tooltip, fallback note. */
import type { BackendInfo, BackendName } from '../../workers/api';

const LABELS: Record<BackendName, string> = { webgpu: 'WebGPU', webgl: 'WebGL', wasm: 'CPU (WebAssembly)', cpu: 'CPU' };

export function backendLabel(name: BackendName): string {
  return LABELS[name];
}

/** Multi-line details for the badge's tooltip: adapter, limits, and every refused backend. */
export function backendDetails(info: BackendInfo): string {
  const lines = [`Training runs on tfjs ${backendLabel(info.backend)} in a worker.`];
  const adapter = info.adapter;
  if (adapter) {
    const name = [adapter.description, adapter.vendor, adapter.architecture].filter(Boolean).join(' · ') || 'unnamed';
    lines.push(`GPU adapter: ${name}${adapter.isFallbackAdapter ? ' (software fallback adapter)' : ''}`);
    lines.push(
      `Max buffer: ${formatBytes(adapter.limits.maxBufferSize)}, max storage binding: ${formatBytes(adapter.limits.maxStorageBufferBindingSize)}`,
    );
  }
  if (info.wasm) {
    const { simd, threads, oneThread } = info.wasm;
    const why = oneThread ? `, because ${oneThread}` : '';
    lines.push(`WebAssembly ${simd ? 'with' : 'without'} SIMD on ${threads} thread${threads === 1 ? '' : 's'}${why}.`);
  }
  for (const r of info.refused) lines.push(`Not ${backendLabel(r.backend)}: ${r.reason}`);
  return lines.join('\n');
}

/** A visible sentence when the studio runs slower than it could, or null when all is well. */
export function fallbackNote(info: BackendInfo): string | null {
  const first = info.refused[0];
  if (first) {
    return `Running on ${backendLabel(info.backend)} because WebGPU is not available: ${first.reason}`;
  }
  if (info.backend === 'webgpu' && info.adapter?.isFallbackAdapter) {
    return 'WebGPU runs on a software adapter here: results are correct, speed is CPU speed.';
  }
  return null;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}
