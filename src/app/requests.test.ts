import { describe, expect, it } from 'vitest';
import type { DataSummary, PreviewToken } from '../../workers/api';
import { tinyConfig } from '../core/model/testing/tinyModels';
import { modelDefaults, samplePrompts, selectConfig } from './requests';
import { DEFAULT_SETTINGS } from './settings';

const tokens = (spec: [string, boolean][]): PreviewToken[] => spec.map(([text, target], id) => ({ id, text, target }));
const data = (packed: boolean, rows: PreviewToken[][]) =>
  ({ packed, preview: rows.map((t, i) => ({ line: i + 1, tokens: t, totalTokens: t.length })) }) as DataSummary;

describe('requests', () => {
  it('takes the prompt part of instruction rows, without a leading <s>, as sample prompts', () => {
    const row = tokens([
      ['<s>', false],
      ['Add', false],
      [' 2+2', false],
      [':', false],
      [' 4', true],
      ['</s>', true],
    ]);
    const other = tokens([
      ['Name', false],
      [' it', false],
      ['!', true],
    ]);
    expect(samplePrompts(data(false, [row, row, other]))).toEqual(['Add 2+2:', 'Name it']);
  });

  it('takes held-out prompts from a separate validation file when there is one', () => {
    const train = tokens([
      ['seen', false],
      [' 1', true],
    ]);
    const held = (word: string) =>
      tokens([
        [word, false],
        [' =', false],
        [' 2', true],
      ]);
    const summary = data(false, [train]);
    summary.validationPreview = data(false, [held('a'), held('b'), held('c'), held('d')]).preview;
    expect(samplePrompts(summary)).toEqual(['a =', 'b =', 'c =']);
  });

  it('takes the opening tokens of packed text', () => {
    const row = tokens(Array.from({ length: 20 }, (_, i) => [`w${i} `, true] as [string, boolean]));
    expect(samplePrompts(data(true, [row]))).toEqual([Array.from({ length: 12 }, (_, i) => `w${i} `).join('')]);
  });

  it('maps each budget kind to the worker request', () => {
    expect(selectConfig({ ...DEFAULT_SETTINGS, budget: 'ratio', headRatio: 0.2, channelRatio: 0.1 }).budget).toEqual({
      kind: 'ratio',
      headRatio: 0.2,
      channelRatio: 0.1,
    });
    expect(selectConfig({ ...DEFAULT_SETTINGS, budget: 'loraRank', matchRank: 16 }).budget).toEqual({
      kind: 'loraRank',
      rank: 16,
    });
    expect(selectConfig(DEFAULT_SETTINGS).budget).toEqual({ kind: 'perLayer', heads: 1, channels: 32 });
  });

  it('fills per-model defaults only where the person left the default', () => {
    const config = tinyConfig({ numHeads: 16, intermediateSize: 512, maxPositionEmbeddings: 8 });
    expect(modelDefaults(config, DEFAULT_SETTINGS)).toEqual({ headsPerLayer: 2, channelsPerLayer: 32, seqLen: 8 });
    expect(modelDefaults(config, { ...DEFAULT_SETTINGS, headsPerLayer: 3 })).toEqual({
      channelsPerLayer: 32,
      seqLen: 8,
    });
  });
});
