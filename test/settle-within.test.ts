// The deadline the studio gives tfjs's threaded WebAssembly build to start (workers/wasmBackend.ts).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { settleWithin } from '../workers/settleWithin';

afterEach(() => {
  vi.useRealTimers();
});

describe('settleWithin', () => {
  it('tells a start that succeeded, returned false or threw', async () => {
    expect(await settleWithin(Promise.resolve(true), 1000)).toBe('started');
    expect(await settleWithin(Promise.resolve(false), 1000)).toBe('failed');
    expect(await settleWithin(Promise.reject(new Error('no wasm')), 1000)).toBe('failed');
  });

  it('gives up on a start still pending at the deadline, and not before', async () => {
    vi.useFakeTimers();
    let settled = false;
    const outcome = settleWithin(new Promise<boolean>(() => undefined), 20_000).then((o) => {
      settled = true;
      return o;
    });
    await vi.advanceTimersByTimeAsync(19_999);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await outcome).toBe('timeout');
  });

  it('leaves no timer behind once the start settles', async () => {
    vi.useFakeTimers();
    let finish: (ok: boolean) => void = () => undefined;
    const outcome = settleWithin(new Promise<boolean>((resolve) => (finish = resolve)), 20_000);
    expect(vi.getTimerCount()).toBe(1);
    finish(true);
    expect(await outcome).toBe('started');
    expect(vi.getTimerCount()).toBe(0);
  });
});
