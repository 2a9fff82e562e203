/**
 * Which heads and channels S²FT trains (paper §3.2): a strategy scores the units, a budget says
 * how many, an allocation says whether the count is per layer (uniform, the paper) or one top-k
 * over the whole model (global, the official code). Seeded and deterministic.
 *
 *   random      S²FT-R, the default: a seeded shuffle
 *   weight      S²FT-W  ┐
 *   activation  S²FT-A  │ each picks the 'large' or the 'small' scores (see scores.ts)
 *   product     S²FT-S  │
 *   gradient    S²FT-G  ┘
 */
import { UserError } from '../errors';
import type { LlamaModel } from '../model/types';
import type { Batch } from '../train/batch';
import { mixSeed, permutation } from '../random';
import {
  DEFAULT_MODULES,
  s2ftParams,
  unitCounts,
  type Allocation,
  type BlockModules,
  type Budget,
  type UnitCounts,
} from './budget';
import { activationScores, gradientScores, productScores, weightScores, type UnitScores } from './scores';
import type { PickSide, Strategy } from './strategies';
import type { LayerSelection, Selection } from './types';

export interface SelectOptions {
  strategy?: Strategy; // default 'random'
  pick?: PickSide; // default 'large'; ignored by 'random'
  budget: Budget;
  allocation?: Allocation; // default 'uniform'
  seed?: number; // default 0; used by 'random' only (scores are deterministic)
  /** A few batches of the training data (the paper uses 1%); needed by activation, product, gradient. */
  calibration?: readonly Batch[];
  modules?: Partial<BlockModules>;
}

export interface SelectResult {
  selection: Selection;
  /** The scores the picks were made from (absent for 'random'); for the UI heatmaps. */
  scores?: UnitScores;
  counts: UnitCounts;
  /** Exact trainable-parameter count of the selection. */
  params: number;
}

export async function selectUnits(model: LlamaModel, options: SelectOptions): Promise<SelectResult> {
  const { config } = model;
  const strategy = options.strategy ?? 'random';
  const pick = options.pick ?? 'large';
  const seed = options.seed ?? 0;
  const modules = { ...DEFAULT_MODULES, ...options.modules };
  const counts = unitCounts(config, options.budget, options.allocation ?? 'uniform', modules);
  const scores = await scoreUnits(model, strategy, options.calibration);
  const L = config.numLayers;
  const heads = scores
    ? pickByScore(scores.heads, counts, 'heads', pick)
    : pickRandom(L, config.numHeads, counts.heads, counts.allocation, mixSeed(seed, 1));
  const channels = scores
    ? pickByScore(scores.channels, counts, 'channels', pick)
    : pickRandom(L, config.intermediateSize, counts.channels, counts.allocation, mixSeed(seed, 2));
  const R = config.numHeads / config.numKvHeads;
  const layers = heads.map((hs, l): LayerSelection => {
    const layer: LayerSelection = { heads: modules.oProj ? hs : [], channels: modules.downProj ? channels[l] : [] };
    // v rows follow the selected heads (the kv heads they read), up rows the selected channels.
    if (modules.vProj) layer.vHeads = [...new Set(hs.map((h) => Math.floor(h / R)))];
    if (modules.upProj) layer.upChannels = channels[l];
    return layer;
  });
  const selection = { layers };
  return { selection, scores: scores ?? undefined, counts, params: s2ftParams(config, selection) };
}

async function scoreUnits(
  model: LlamaModel,
  strategy: Strategy,
  calibration?: readonly Batch[],
): Promise<UnitScores | null> {
  if (strategy === 'random') return null;
  if (strategy === 'weight') return weightScores(model);
  if (!calibration || calibration.length === 0)
    throw new UserError(
      'bad-argument',
      `selection strategy "${strategy}" needs a calibration set (a few batches of the training data)`,
    );
  if (strategy === 'activation') return activationScores(model, calibration);
  if (strategy === 'product')
    return productScores(await weightScores(model), await activationScores(model, calibration));
  return gradientScores(model, calibration);
}

/** Top-k (or bottom-k) per layer or over all layers; ties go to the lower index. Sorted ascending. */
function pickByScore(scores: number[][], counts: UnitCounts, kind: 'heads' | 'channels', pick: PickSide): number[][] {
  const k = counts[kind];
  const sign = pick === 'large' ? -1 : 1;
  const units = scores.flatMap((row, layer) => row.map((score, unit) => ({ layer, unit, score })));
  const order = (a: (typeof units)[number], b: (typeof units)[number]) =>
    sign * (a.score - b.score) || a.layer - b.layer || a.unit - b.unit;
  const chosen =
    counts.allocation === 'global'
      ? [...units].sort(order).slice(0, k)
      : scores.flatMap((_, layer) =>
          units
            .filter((u) => u.layer === layer)
            .sort(order)
            .slice(0, k),
        );
  return byLayer(scores.length, chosen);
}

/** k seeded random units per layer (uniform) or k over the whole model (global). Sorted ascending. */
function pickRandom(L: number, n: number, k: number, allocation: Allocation, seed: number): number[][] {
  if (allocation === 'global') {
    const chosen = Array.from(permutation(L * n, seed).slice(0, k), (i) => ({ layer: Math.floor(i / n), unit: i % n }));
    return byLayer(L, chosen);
  }
  return Array.from({ length: L }, (_, layer) =>
    Array.from(permutation(n, mixSeed(seed, layer)).slice(0, k)).sort((a, b) => a - b),
  );
}

function byLayer(L: number, chosen: { layer: number; unit: number }[]): number[][] {
  const out: number[][] = Array.from({ length: L }, () => []);
  for (const { layer, unit } of chosen) out[layer].push(unit);
  return out.map((units) => units.sort((a, b) => a - b));
}
