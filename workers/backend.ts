/**
 * Choosing the tfjs backend inside the worker: WebGPU first, then WebGL, then the CPU through
 * WebAssembly (wasmBackend.ts), then plain JavaScript, remembering in plain words why each faster
 * one was refused.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import type { BackendInfo, BackendName, BackendRefusal, GpuAdapterSummary } from './api';
import { startWasm } from './wasmBackend';

// tfjs asks for the high-performance adapter; ask for the same one so the reported info matches.
const ADAPTER_OPTIONS: GPURequestAdapterOptions = { powerPreference: 'high-performance' };

export async function chooseBackend(): Promise<BackendInfo> {
  const refused: BackendRefusal[] = [];
  const probe = await probeWebGpu();
  if (probe.ok) {
    if (await tf.setBackend('webgpu')) return { backend: 'webgpu', refused, adapter: probe.adapter };
    refused.push({
      backend: 'webgpu',
      reason: 'tfjs could not start its WebGPU backend on this adapter (details in the console).',
    });
  } else {
    refused.push({ backend: 'webgpu', reason: probe.reason });
  }
  const adapter = probe.ok ? probe.adapter : null;
  if (await tf.setBackend('webgl')) return { backend: 'webgl', refused, adapter };
  refused.push({ backend: 'webgl', reason: 'this browser could not create a WebGL2 context for tfjs in a worker.' });
  const wasm = await startWasm();
  if (wasm) return { backend: 'wasm', refused, adapter, wasm };
  refused.push({ backend: 'wasm', reason: 'this browser could not start tfjs on WebAssembly.' });
  if (await tf.setBackend('cpu')) return { backend: 'cpu', refused, adapter };
  throw new Error('tfjs could not start any backend, not even cpu');
}

export function activeBackend(): BackendName {
  const name = tf.getBackend();
  if (name === 'webgpu' || name === 'webgl' || name === 'wasm' || name === 'cpu') return name;
  throw new Error(`unexpected tfjs backend "${name}"`);
}

type WebGpuProbe = { ok: true; adapter: GpuAdapterSummary } | { ok: false; reason: string };

async function probeWebGpu(): Promise<WebGpuProbe> {
  if (!('gpu' in navigator) || !navigator.gpu) {
    return { ok: false, reason: 'this browser has no WebGPU (navigator.gpu is missing); use a recent Chrome.' };
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await navigator.gpu.requestAdapter(ADAPTER_OPTIONS);
  } catch (e) {
    return { ok: false, reason: `asking for a WebGPU adapter failed: ${String(e)}` };
  }
  if (!adapter) {
    return {
      ok: false,
      reason:
        'the browser offered no WebGPU adapter (GPU blocklisted or WebGPU disabled; on Linux, Chrome needs --enable-unsafe-webgpu).',
    };
  }
  return { ok: true, adapter: summarizeAdapter(adapter) };
}

function summarizeAdapter(adapter: GPUAdapter): GpuAdapterSummary {
  const info = adapter.info;
  // Older Chrome reported isFallbackAdapter on the adapter itself, newer on adapter.info.
  const legacy = adapter as GPUAdapter & { isFallbackAdapter?: boolean };
  const limits = adapter.limits;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: Boolean(info.isFallbackAdapter ?? legacy.isFallbackAdapter),
    limits: {
      maxBufferSize: limits.maxBufferSize,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
    },
  };
}
