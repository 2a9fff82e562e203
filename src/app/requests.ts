/**
 * The selection request from the settings record, per-model defaults and the sample prompts.
 * (The training fields go to the worker as they are: both speak the core's TrainConfig.)
 */
import type { DataSummary, SelectConfig } from '../../workers/api';
import type { ModelConfig } from '../core/model/types';
import { DEFAULT_SETTINGS, type StudioSettings } from './settings';

export function selectConfig(s: StudioSettings): SelectConfig {
  const budget: SelectConfig['budget'] =
    s.budget === 'perLayer'
      ? { kind: 'perLayer', heads: s.headsPerLayer, channels: s.channelsPerLayer }
      : s.budget === 'ratio'
        ? { kind: 'ratio', headRatio: s.headRatio, channelRatio: s.channelRatio }
        : { kind: 'loraRank', rank: s.matchRank };
  return {
    strategy: s.strategy,
    pick: s.pick,
    budget,
    modules: { oProj: s.oProj, downProj: s.downProj, vProj: s.vProj, upProj: s.upProj },
    seed: s.selectionSeed,
  };
}

/**
 * Settings that depend on the model's size, for fields the person has not changed: about one
 * head in eight and one channel in sixteen per layer, and a sequence the model can hold.
 */
export function modelDefaults(config: ModelConfig, current: StudioSettings): Partial<StudioSettings> {
  const proposals: Partial<StudioSettings> = {
    headsPerLayer: Math.max(1, Math.round(config.numHeads / 8)),
    channelsPerLayer: Math.max(1, Math.round(config.intermediateSize / 16)),
    seqLen: Math.min(DEFAULT_SETTINGS.seqLen, config.maxPositionEmbeddings),
  };
  const change: Partial<StudioSettings> = {};
  for (const [key, value] of Object.entries(proposals) as [keyof StudioSettings, never][]) {
    if (current[key] === DEFAULT_SETTINGS[key]) change[key] = value;
  }
  return change;
}

const SPECIAL_TOKEN = /^<\|?[^<>\s]+\|?>$/;

/**
 * Prompts for the sample generations: the prompt part (tokens that do not count in the loss) of
 * the first rows of the separate validation file when there is one (prompts the run never trains
 * on), else of the training file, or the opening tokens of a plain-text file.
 */
export function samplePrompts(data: DataSummary, count = 3): string[] {
  const prompts: string[] = [];
  const rows = data.validationPreview?.length ? data.validationPreview : data.preview;
  for (const row of rows) {
    // Special tokens such as <s> are the tokenizer's to add; as prompt text they would be doubled.
    const tokens = row.tokens.filter((t, i) => !(i === 0 && SPECIAL_TOKEN.test(t.text)));
    const firstTarget = tokens.findIndex((t) => t.target);
    const prefix = data.packed || firstTarget <= 0 ? tokens.slice(0, 12) : tokens.slice(0, firstTarget);
    const text = prefix.map((t) => t.text).join('');
    if (text.trim() && !prompts.includes(text)) prompts.push(text);
    if (prompts.length === count) break;
  }
  return prompts;
}
