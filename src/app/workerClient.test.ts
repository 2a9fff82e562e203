import { describe, expect, it } from 'vitest';
import { untilGone } from './workerClient';

describe('untilGone', () => {
  const slowRemote = {
    answer: (x: number) => new Promise<number>((resolve) => setTimeout(() => resolve(2 * x), 20)),
    never: () => new Promise<number>(() => undefined),
  };

  it('passes answers through while the worker lives', async () => {
    const gone = new Promise<never>(() => undefined);
    expect(await untilGone(slowRemote, gone).answer(21)).toBe(42);
  });

  it('rejects a pending call with the reason the worker went away', async () => {
    let end!: (e: Error) => void;
    const gone = new Promise<never>((_, reject) => {
      end = reject;
    });
    const pending = untilGone(slowRemote, gone).never();
    end(new Error('the GPU device was lost'));
    await expect(pending).rejects.toThrow('the GPU device was lost');
  });

  it('is not mistaken for a promise', async () => {
    const guarded = untilGone(slowRemote, new Promise<never>(() => undefined));
    expect((guarded as { then?: unknown }).then).toBeUndefined();
    expect(await Promise.resolve(guarded)).toBe(guarded);
  });
});
