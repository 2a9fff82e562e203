import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SETTINGS,
  SETTING_RULES,
  decodeSettingsHash,
  encodeSettingsHash,
  settingsFromJson,
  settingsToJson,
  type StudioSettings,
} from './settings';

/** Any valid settings record, field by field from its rule. */
const anySettings: fc.Arbitrary<StudioSettings> = fc.record(
  Object.fromEntries(
    Object.entries(SETTING_RULES).map(([key, rule]) => {
      switch (rule.kind) {
        case 'bool':
          return [key, fc.boolean()];
        case 'enum':
          return [key, fc.constantFrom(...rule.values)];
        case 'string':
          return [key, fc.string({ maxLength: rule.maxLength })];
        case 'int':
          return [key, fc.integer({ min: rule.min, max: rule.max })];
        case 'number':
          return [key, fc.double({ min: rule.min, max: rule.max, noNaN: true })];
      }
    }),
  ) as { [K in keyof StudioSettings]: fc.Arbitrary<StudioSettings[K]> },
);

describe('settings', () => {
  it('encodes only what differs from the defaults', () => {
    expect(encodeSettingsHash(DEFAULT_SETTINGS)).toBe('');
    expect(encodeSettingsHash({ ...DEFAULT_SETTINGS, method: 'lora', steps: 30, vProj: true })).toBe(
      '#vProj=1&method=lora&steps=30',
    );
  });

  it('round-trips any valid record through the URL hash and through JSON', () => {
    fc.assert(
      fc.property(anySettings, (settings) => {
        const fromHash = decodeSettingsHash(encodeSettingsHash(settings));
        expect(fromHash.problems).toEqual([]);
        expect(fromHash.settings).toEqual(settings);
        const fromJson = settingsFromJson(settingsToJson(settings), 'settings.json');
        expect(fromJson.problems).toEqual([]);
        expect(fromJson.settings).toEqual(settings);
      }),
      { numRuns: 200 },
    );
  });

  it('skips bad fields with a reason naming them and keeps the good ones', () => {
    const { settings, problems } = decodeSettingsHash(
      '#steps=-3&method=magic&lr=abc&bogus=1&batchSize=4&oProj=maybe&seqLen=2.5',
    );
    expect(settings).toEqual({ ...DEFAULT_SETTINGS, batchSize: 4 });
    expect(problems).toEqual([
      'link: steps must be from 1 to 1000000, got "-3"',
      'link: method must be one of s2ft, lora, full, got "magic"',
      'link: lr must be a number, got "abc"',
      'link: unknown setting "bogus" ignored',
      'link: oProj must be true or false, got "maybe"',
      'link: seqLen must be a whole number, got "2.5"',
    ]);
  });

  it('says when a JSON file is not a settings file', () => {
    expect(settingsFromJson('{"steps": 3}', 'x.json').problems).toEqual([
      'x.json: not a studio settings file (expected "kind": "s2ft-studio-settings" and a "settings" object)',
    ]);
    expect(settingsFromJson('{oops', 'y.json').problems[0]).toMatch(/^y\.json: not JSON/);
    const typed = settingsFromJson(
      JSON.stringify({ kind: 's2ft-studio-settings', settings: { steps: '30', warmup: 2 } }),
      'z.json',
    );
    expect(typed.settings.warmup).toBe(2);
    expect(typed.settings.steps).toBe(30);
  });
});
