import { describe, expect, it } from 'vitest';
import type { RunSummary, TrainRequest } from '../../workers/api';
import { settingsDiff } from './settingsDiff';

const settings = { method: 's2ft', lr: 1e-3, steps: 30, batchSize: 4, samplePrompts: ['a'] } as TrainRequest;
const run = (change: Partial<TrainRequest>, selection: RunSummary['selection'] = null) =>
  ({ settings: { ...settings, ...change }, selection, modelName: 'm', dataName: 'd' }) as RunSummary;

describe('settingsDiff', () => {
  it('lists only the settings that differ, one value per run', () => {
    const rows = settingsDiff([
      run({}, { layers: [{ heads: [0], channels: [1, 2] }] }),
      run({ method: 'lora', lr: 2e-3 }),
    ]);
    expect(rows).toEqual([
      { setting: 'method', values: ['s2ft', 'lora'] },
      { setting: 'lr', values: ['0.001', '0.002'] },
      { setting: 'selection', values: ['1 heads, 2 channels', '–'] },
    ]);
  });

  it('is empty for identical runs', () => {
    expect(settingsDiff([run({}), run({})])).toEqual([]);
  });
});
