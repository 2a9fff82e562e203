/**
 * Selections for the fusion experiment (bench/experiments/claims.ts): one selection of twice the
 * budget split into two disjoint halves, and how many units two selections share.
 */
import type { LayerSelection, Selection } from '../../src/core/s2ft/types';

/** Every other unit (in ascending order) of each layer: a gets positions 0, 2, 4…, b gets 1, 3, 5…. */
export function splitSelection(selection: Selection): [Selection, Selection] {
  for (const l of selection.layers) {
    if (l.vHeads !== undefined || l.upChannels !== undefined)
      throw new Error('splitSelection takes o_proj / down_proj selections only');
  }
  const half = (units: readonly number[], parity: number) =>
    [...units].sort((x, y) => x - y).filter((_, i) => i % 2 === parity);
  const side = (parity: number): Selection => ({
    layers: selection.layers.map((l): LayerSelection => ({
      heads: half(l.heads, parity),
      channels: half(l.channels, parity),
    })),
  });
  return [side(0), side(1)];
}

/** Heads plus channels selected in both, layer by layer. */
export function sharedUnits(a: Selection, b: Selection): number {
  const common = (x: readonly number[], y: readonly number[]) => x.filter((u) => y.includes(u)).length;
  return a.layers.reduce((n, l, i) => {
    const other = b.layers[i] ?? { heads: [], channels: [] };
    return n + common(l.heads, other.heads) + common(l.channels, other.channels);
  }, 0);
}
