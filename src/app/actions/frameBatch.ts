/**
 * Collects events that arrive faster than the screen redraws and hands them over once per
 * animation frame, so a fast training loop costs one store update (and one chart render) a frame.
 */
export interface FrameBatch<T> {
  push(item: T): void;
  /** Hands over anything pending now (e.g. when the run ends). */
  flush(): void;
}

export function frameBatch<T>(deliver: (items: T[]) => void): FrameBatch<T> {
  let pending: T[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const items = pending;
    pending = [];
    deliver(items);
  };
  return {
    push(item) {
      pending.push(item);
      if (scheduled) return;
      scheduled = true;
      // A hidden tab gets no animation frames; the timeout keeps the charts current there too.
      requestAnimationFrame(flush);
      setTimeout(() => scheduled && flush(), 250);
    },
    flush,
  };
}
