import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { frameBatch } from './frameBatch';

describe('frameBatch', () => {
  let frames: (() => void)[];
  beforeEach(() => {
    frames = [];
    vi.useFakeTimers();
    vi.stubGlobal('requestAnimationFrame', (fn: () => void) => frames.push(fn));
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('delivers everything pushed between two frames in one call, in order', () => {
    const calls: number[][] = [];
    const batch = frameBatch<number>((items) => calls.push(items));
    for (let i = 0; i < 5; i++) batch.push(i);
    expect(frames).toHaveLength(1);
    frames[0]();
    batch.push(5);
    frames[1]();
    expect(calls).toEqual([[0, 1, 2, 3, 4], [5]]);
  });

  it('still delivers when no frame comes (hidden tab), and flush empties at once', () => {
    const calls: number[][] = [];
    const batch = frameBatch<number>((items) => calls.push(items));
    batch.push(1);
    vi.advanceTimersByTime(300);
    expect(calls).toEqual([[1]]);
    frames[0]();
    batch.push(2);
    batch.flush();
    expect(calls).toEqual([[1], [2]]);
  });
});
