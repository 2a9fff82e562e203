import { describe, expect, it } from 'vitest';
import type { BackendInfo, GpuAdapterSummary } from '../../workers/api';
import { backendDetails, backendLabel, fallbackNote, formatBytes } from './backendText';

const swiftShader: GpuAdapterSummary = {
  vendor: 'google',
  architecture: 'swiftshader',
  device: '',
  description: 'SwiftShader Device (Subzero)',
  isFallbackAdapter: true,
  limits: {
    maxBufferSize: 2 ** 31,
    maxStorageBufferBindingSize: 128 * 2 ** 20,
    maxComputeWorkgroupStorageSize: 16384,
    maxComputeInvocationsPerWorkgroup: 256,
    maxStorageBuffersPerShaderStage: 8,
  },
};

describe('backend text', () => {
  it('labels each backend', () => {
    expect(['webgpu', 'webgl', 'wasm', 'cpu'].map((b) => backendLabel(b as 'webgpu'))).toEqual([
      'WebGPU',
      'WebGL',
      'CPU (WebAssembly)',
      'CPU',
    ]);
  });

  it('says how the wasm backend runs: SIMD, threads, and why only one', () => {
    const info: BackendInfo = {
      backend: 'wasm',
      adapter: null,
      refused: [{ backend: 'webgl', reason: 'no context.' }],
      wasm: { simd: true, threads: 1, oneThread: null },
    };
    expect(backendDetails(info)).toContain('WebAssembly with SIMD on 1 thread.');
    expect(backendDetails({ ...info, wasm: { simd: false, threads: 4, oneThread: null } })).toContain(
      'WebAssembly without SIMD on 4 threads.',
    );
    const notIsolated = { simd: true, threads: 1, oneThread: 'the page is not cross-origin isolated' };
    expect(backendDetails({ ...info, wasm: notIsolated })).toContain(
      'WebAssembly with SIMD on 1 thread, because the page is not cross-origin isolated.',
    );
  });

  it('explains a fallback with the refusal reason, visibly', () => {
    const info: BackendInfo = {
      backend: 'webgl',
      adapter: null,
      refused: [{ backend: 'webgpu', reason: 'no adapter.' }],
    };
    expect(fallbackNote(info)).toBe('Running on WebGL because WebGPU is not available: no adapter.');
    expect(backendDetails(info)).toContain('Not WebGPU: no adapter.');
  });

  it('flags a software WebGPU adapter and lists its limits', () => {
    const info: BackendInfo = { backend: 'webgpu', adapter: swiftShader, refused: [] };
    expect(fallbackNote(info)).toMatch(/software adapter/);
    expect(backendDetails(info)).toContain(
      'SwiftShader Device (Subzero) · google · swiftshader (software fallback adapter)',
    );
    expect(backendDetails(info)).toContain('Max buffer: 2 GiB, max storage binding: 128 MiB');
  });

  it('says nothing when a hardware WebGPU adapter is in use', () => {
    const info: BackendInfo = { backend: 'webgpu', adapter: { ...swiftShader, isFallbackAdapter: false }, refused: [] };
    expect(fallbackNote(info)).toBeNull();
  });

  it('formats byte sizes', () => {
    expect([formatBytes(512), formatBytes(1536), formatBytes(2 ** 40)]).toEqual(['512 B', '1.5 KiB', '1 TiB']);
  });
});
