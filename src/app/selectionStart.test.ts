import { describe, expect, it } from 'vitest';
import { selectionStart } from './selectionStart';

const layer = (heads: number[], channels: number[]) => ({ heads, channels });

describe('selectionStart', () => {
  it('skips layers whose selected units are already first', () => {
    const start = selectionStart({ layers: [layer([0], [0, 1]), layer([1, 0], [2, 0, 1]), layer([3], [7])] });
    expect(start).toEqual({ layer: 2, group: 'attention' });
  });

  it('opens the feed-forward views when only the channels move', () => {
    expect(selectionStart({ layers: [layer([0], [0, 5])] })).toEqual({ layer: 0, group: 'mlp' });
  });

  it('prefers the attention views within a layer where both move', () => {
    expect(selectionStart({ layers: [layer([], []), layer([2], [9])] })).toEqual({ layer: 1, group: 'attention' });
  });

  it('falls back to layer 0 when nothing moves', () => {
    expect(selectionStart({ layers: [layer([0, 1], [0]), layer([], [])] })).toEqual({ layer: 0, group: 'attention' });
  });
});
