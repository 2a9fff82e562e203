/**
 * Where the Selection panel's weight views open: on the first layer whose selected units the
 * co-permutation actually moves (paper §3.1), so the before/after pair shows a difference. A unit
 * set that is already {0, …, k−1} stays in place and its two views look the same.
 */
import type { Selection } from '../core/s2ft/types';
import type { ModuleGroup } from './components/WeightViews';

export interface SelectionStart {
  layer: number;
  group: ModuleGroup;
}

/** True when sorting the units to the front changes their positions. */
const moves = (units: readonly number[]): boolean => units.some((u) => u >= units.length);

/** The first layer the permutation changes, attention first within a layer; layer 0 if none does. */
export function selectionStart(selection: Selection): SelectionStart {
  for (const [layer, { heads, channels }] of selection.layers.entries()) {
    if (moves(heads)) return { layer, group: 'attention' };
    if (moves(channels)) return { layer, group: 'mlp' };
  }
  return { layer: 0, group: 'attention' };
}
