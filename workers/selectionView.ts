/**
 * The Selection panel's two questions: which heads and channels does S²FT train (with their
 * scores and the trainable-parameter counts against LoRA and full FT), and what do the weights
 * look like before and after co-permutation (paper §3.1) with the trained block outlined.
 */
import { UserError } from '../src/core/errors';
import { countParameters } from '../src/core/model/config';
import type { LlamaModel, ModelConfig } from '../src/core/model/types';
import { loraParams, s2ftParams, type Budget } from '../src/core/s2ft/budget';
import { coPermutation } from '../src/core/s2ft/copermute';
import { selectUnits } from '../src/core/s2ft/selection';
import { writeSelectionFile } from '../src/core/s2ft/selectionFile';
import type { LayerSelection, Selection } from '../src/core/s2ft/types';
import type { Batch } from '../src/core/train/batch';
import type { SelectConfig, SelectionSummary, WeightView, WeightViewRequest } from './api';

export const DEFAULT_VIEW_CELLS = 160;

export async function selectForStudio(
  model: LlamaModel,
  config: SelectConfig,
  calibration: readonly Batch[],
): Promise<SelectionSummary> {
  const budget: Budget =
    config.budget.kind === 'ratio'
      ? { kind: 'ratio', heads: config.budget.headRatio, channels: config.budget.channelRatio }
      : config.budget;
  const result = await selectUnits(model, {
    strategy: config.strategy,
    pick: config.pick,
    budget,
    allocation: config.global ? 'global' : 'uniform',
    seed: config.seed,
    calibration,
    modules: config.modules,
  });
  return summarizeSelection(
    model.config,
    result.selection,
    result.scores ?? null,
    result.counts,
    config.budget.kind === 'loraRank' ? config.budget.rank : null,
  );
}

/** Counts against LoRA (at the budget's rank, or the smallest rank with at least as many parameters) and full FT. */
export function summarizeSelection(
  config: ModelConfig,
  selection: Selection,
  scores: SelectionSummary['scores'],
  counts: SelectionSummary['counts'],
  rank: number | null,
): SelectionSummary {
  const s2ft = s2ftParams(config, selection);
  const perRank = loraParams(config, 1);
  const loraRank = rank ?? Math.max(1, Math.ceil(s2ft / perRank));
  return {
    selection,
    selectionFile: writeSelectionFile(selection),
    scores,
    counts,
    trainableParams: { s2ft, lora: loraParams(config, loraRank), loraRank, full: countParameters(config) },
  };
}

/** Unit counts of a selection read from a file: per layer when every layer has the same, else total. */
export function countsOf(selection: Selection): SelectionSummary['counts'] {
  const h = selection.layers.map((l) => l.heads.length);
  const c = selection.layers.map((l) => l.channels.length);
  const uniform = h.every((x) => x === h[0]) && c.every((x) => x === c[0]);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return uniform
    ? { heads: h[0] ?? 0, channels: c[0] ?? 0, allocation: 'uniform' }
    : { heads: sum(h), channels: sum(c), allocation: 'global' };
}

/** How a module's units lie in its [out, in] weight. */
function unitLayout(
  config: ModelConfig,
  module: WeightViewRequest['module'],
): Pick<WeightView, 'unitAxis' | 'unit' | 'unitSize'> {
  switch (module) {
    case 'o_proj':
      return { unitAxis: 'columns', unit: 'head', unitSize: config.headDim };
    case 'q_proj':
      return { unitAxis: 'rows', unit: 'head', unitSize: config.headDim };
    case 'k_proj':
    case 'v_proj':
      return { unitAxis: 'rows', unit: 'kvHead', unitSize: config.headDim };
    case 'down_proj':
      return { unitAxis: 'columns', unit: 'channel', unitSize: 1 };
    case 'gate_proj':
    case 'up_proj':
      return { unitAxis: 'rows', unit: 'channel', unitSize: 1 };
  }
}

/**
 * The unit order of the permuted view and the selected block. Heads and channels follow
 * coPermutation (selected first). Key/value heads: with multi-head attention they are the heads;
 * under grouped-query attention the kv heads read by a selected head are gathered first, a view
 * only (training gathers by index and never moves them).
 */
function viewOrder(
  config: ModelConfig,
  layer: LayerSelection | null,
  unit: WeightView['unit'],
  permuted: boolean,
): { order: number[]; selectedCount: number; note: string | null } {
  const n = unit === 'head' ? config.numHeads : unit === 'kvHead' ? config.numKvHeads : config.intermediateSize;
  const identity = Array.from({ length: n }, (_, i) => i);
  if (!layer)
    return { order: identity, selectedCount: 0, note: permuted ? 'no selection yet: nothing to permute' : null };
  if (unit === 'kvHead') {
    const R = config.numHeads / config.numKvHeads;
    const read = [...new Set(layer.heads.map((h) => Math.floor(h / R)))].sort((a, b) => a - b);
    const front = new Set(read);
    const order = permuted ? [...read, ...identity.filter((i) => !front.has(i))] : identity;
    const gqa = R > 1;
    const note = gqa
      ? `grouped-query attention: ${config.numHeads} query heads share ${config.numKvHeads} key/value heads, so the highlighted kv heads are those the selected heads read${permuted ? '; this permuted view is a gathered view, training never moves them' : ''}`
      : null;
    return { order, selectedCount: read.length, note };
  }
  const perm = coPermutation(config, layer);
  const selected = unit === 'head' ? layer.heads : layer.channels;
  const order = permuted ? (unit === 'head' ? perm.headOrder : perm.channelOrder).map(Number) : identity;
  const gqaNote =
    unit === 'head' && config.numKvHeads !== config.numHeads && permuted
      ? 'grouped-query attention: this permuted view is a gathered view (moving a query head would change its key/value head, so training gathers by index instead)'
      : null;
  return { order, selectedCount: new Set(selected).size, note: gqaNote };
}

/** Average-pools the reordered weight into at most maxCells × maxCells cells. */
export async function weightView(
  model: LlamaModel,
  selection: Selection | null,
  request: WeightViewRequest,
): Promise<WeightView> {
  const { config } = model;
  const { layer, module, permuted } = request;
  if (!Number.isInteger(layer) || layer < 0 || layer >= config.numLayers) {
    throw new UserError('bad-argument', `layer must be 0..${config.numLayers - 1}, got ${layer}`);
  }
  const maxCells = request.maxCells ?? DEFAULT_VIEW_CELLS;
  if (!Number.isInteger(maxCells) || maxCells < 1)
    throw new UserError('bad-argument', `maxCells must be a positive integer, got ${maxCells}`);
  const weight = model.weights.layers[layer].linear[module];
  const [out, inDim] = weight.shape; // [out, in]
  const values = (await weight.data()) as Float32Array;
  const layout = unitLayout(config, module);
  const layerSel = selection?.layers[layer] ?? null;
  const { order, selectedCount, note } = viewOrder(config, layerSel, layout.unit, permuted);

  // Source row / column of each displayed row / column: units reordered, positions inside a unit kept.
  const expand = (size: number, along: boolean): Int32Array => {
    if (!along) return Int32Array.from({ length: size }, (_, i) => i);
    const map = new Int32Array(size);
    order.forEach((unitIndex, p) => {
      for (let d = 0; d < layout.unitSize; d++) map[p * layout.unitSize + d] = unitIndex * layout.unitSize + d;
    });
    return map;
  };
  const rowFrom = expand(out, layout.unitAxis === 'rows');
  const colFrom = expand(inDim, layout.unitAxis === 'columns');
  const rowsPerCell = Math.ceil(out / maxCells);
  const colsPerCell = Math.ceil(inDim / maxCells);
  const rows = Math.ceil(out / rowsPerCell);
  const cols = Math.ceil(inDim / colsPerCell);
  const sums = new Float64Array(rows * cols);
  const counts = new Float64Array(rows * cols);
  const absolute = request.absolute ?? true;
  for (let r = 0; r < out; r++) {
    const src = rowFrom[r] * inDim;
    const cellRow = Math.floor(r / rowsPerCell) * cols;
    for (let c = 0; c < inDim; c++) {
      const v = values[src + colFrom[c]];
      const cell = cellRow + Math.floor(c / colsPerCell);
      sums[cell] += absolute ? Math.abs(v) : v;
      counts[cell] += 1;
    }
  }
  const cells = Float32Array.from(sums, (s, i) => s / counts[i]);
  const blocks = selectedBlocks(order, layerSel, layout.unit, config, permuted, selectedCount);
  return {
    layer,
    module,
    shape: [out, inDim],
    rows,
    cols,
    values: cells,
    rowsPerCell,
    colsPerCell,
    ...layout,
    order,
    blocks,
    note,
  };
}

/** Permuted: one block [0, k). Original order: each maximal run of selected units. */
function selectedBlocks(
  order: number[],
  layer: LayerSelection | null,
  unit: WeightView['unit'],
  config: ModelConfig,
  permuted: boolean,
  k: number,
): WeightView['blocks'] {
  if (!layer || k === 0) return [];
  if (permuted) return [{ start: 0, end: k }];
  const R = config.numHeads / config.numKvHeads;
  const chosen = new Set(
    unit === 'head' ? layer.heads : unit === 'channel' ? layer.channels : layer.heads.map((h) => Math.floor(h / R)),
  );
  const blocks: WeightView['blocks'] = [];
  order.forEach((u, p) => {
    if (!chosen.has(u)) return;
    const last = blocks[blocks.length - 1];
    if (last && last.end === p) last.end = p + 1;
    else blocks.push({ start: p, end: p + 1 });
  });
  return blocks;
}
