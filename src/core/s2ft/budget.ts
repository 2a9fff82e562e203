/**
 * How many heads and channels S²FT trains: a budget given as counts per layer, as ratios of all
 * units, or matched to LoRA's trainable-parameter count at rank r (paper §5,
 * params_LoRA(r) = r · Σ (in + out) over q, k, v, up, down of every layer).
 */
import { UserError } from '../errors';
import type { ModelConfig, ModuleName } from '../model/types';
import type { Selection } from './types';

/**
 * Which modules a selected unit trains: a head's o_proj columns and/or its kv head's v_proj rows; a channel's down_proj
 * column and/or its up_proj row.
 */
export interface BlockModules {
  oProj: boolean;
  downProj: boolean;
  vProj: boolean;
  upProj: boolean;
}
export const DEFAULT_MODULES: BlockModules = { oProj: true, downProj: true, vProj: false, upProj: false };

export type Budget =
  | { kind: 'perLayer'; heads: number; channels: number }
  /** Fractions of all heads and of all channels (the paper's o_ratio, d_ratio). */
  | { kind: 'ratio'; heads: number; channels: number }
  /**
   * As many parameters as LoRA at this rank. attentionShare is the fraction of that budget
   * given to heads (default 0.5, an equal split): with global allocation on LLaMA2-7B at r = 32
   * it gives 53 of 1024 heads (0.052) and 6912 of 352,256 channels (0.0196), the paper's
   * o_ratio 0.052 and d_ratio 0.02. Channels take what heads leave, so the count never exceeds LoRA's.
   */
  | { kind: 'loraRank'; rank: number; attentionShare?: number };

/** uniform: the same counts in every layer (the paper); global: one top-k over all layers (the official code). */
export type Allocation = 'uniform' | 'global';

/** Units to select: per layer (uniform) or over the whole model (global). */
export interface UnitCounts {
  allocation: Allocation;
  heads: number;
  channels: number;
}

/** The modules LoRA adapts by default, the baseline S²FT's budget is matched to (loraParams counts them). */
export const DEFAULT_LORA_TARGETS: readonly ModuleName[] = ['q_proj', 'k_proj', 'v_proj', 'up_proj', 'down_proj'];

/** Trainable parameters of LoRA at rank r on q, k, v, up, down (biases and embeddings excluded). */
export function loraParams(config: ModelConfig, rank: number): number {
  const { hiddenSize: D, intermediateSize: F, numHeads: H, numKvHeads: Hkv, headDim: hd } = config;
  const perLayer = D + H * hd + 2 * (D + Hkv * hd) + (D + F) + (F + D); // q, k, v, up, down
  return rank * perLayer * config.numLayers;
}

/** Parameters one head and one channel add when selected. */
export function unitCosts(config: ModelConfig, modules: BlockModules): { head: number; channel: number } {
  const { hiddenSize: D, headDim: hd } = config;
  return {
    // v rows are counted per query head: exact for MHA, an upper bound under GQA (heads share kv heads).
    head: (modules.oProj ? hd * D : 0) + (modules.vProj ? hd * D : 0),
    channel: (modules.downProj ? D : 0) + (modules.upProj ? D : 0),
  };
}

/** Exact trainable-parameter count of a selection. */
export function s2ftParams(config: ModelConfig, selection: Selection): number {
  const { hiddenSize: D, headDim: hd } = config;
  return selection.layers.reduce(
    (sum, l) =>
      sum +
      l.heads.length * hd * D +
      l.channels.length * D +
      (l.vHeads?.length ?? 0) * hd * D +
      (l.upChannels?.length ?? 0) * D,
    0,
  );
}

/** Turn a budget into integer unit counts. */
export function unitCounts(
  config: ModelConfig,
  budget: Budget,
  allocation: Allocation,
  modules: BlockModules,
): UnitCounts {
  const { numLayers: L, numHeads: H, intermediateSize: F } = config;
  const scale = allocation === 'uniform' ? 1 : L; // units are counted per layer or in total
  const maxHeads = H * scale,
    maxChannels = F * scale;
  const cost = unitCosts(config, modules);
  let heads: number, channels: number;
  switch (budget.kind) {
    case 'perLayer':
      heads = budget.heads * scale;
      channels = budget.channels * scale;
      break;
    case 'ratio':
      checkRatio(budget.heads, 'head ratio');
      checkRatio(budget.channels, 'channel ratio');
      heads = Math.round(budget.heads * maxHeads);
      channels = Math.round(budget.channels * maxChannels);
      break;
    case 'loraRank': {
      const share = budget.attentionShare ?? 0.5;
      checkRatio(share, 'attention share');
      if (!Number.isInteger(budget.rank) || budget.rank < 1)
        throw new UserError('bad-argument', `LoRA rank to match must be a positive integer, got ${budget.rank}`);
      const params = (loraParams(config, budget.rank) / L) * scale;
      heads = cost.head > 0 ? Math.min(maxHeads, Math.floor((share * params) / cost.head)) : 0;
      channels = cost.channel > 0 ? Math.min(maxChannels, Math.floor((params - heads * cost.head) / cost.channel)) : 0;
      break;
    }
  }
  if (!Number.isInteger(heads) || heads < 0 || heads > maxHeads)
    throw new UserError('bad-argument', `heads per layer must be an integer in 0..${H}, got ${heads / scale}`);
  if (!Number.isInteger(channels) || channels < 0 || channels > maxChannels)
    throw new UserError('bad-argument', `channels per layer must be an integer in 0..${F}, got ${channels / scale}`);
  return {
    allocation,
    heads: modules.oProj || modules.vProj ? heads : 0,
    channels: modules.downProj || modules.upProj ? channels : 0,
  };
}

function checkRatio(r: number, what: string): void {
  if (!(r >= 0 && r <= 1)) throw new UserError('bad-argument', `${what} must be in [0, 1], got ${r}`);
}
