// Fuzzing the selection file reader: valid selections with structured malformations (indices out
// of range, repeated, fractional, NaN/Infinity; prototype keys such as "__proto__" and
// "constructor" in a layer; deep nesting; wrong types everywhere) and arbitrary text. Every
// outcome is a selection that fits the model or a UserError naming the field.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tinyConfig } from '../../src/core/model/testing/tinyModels';
import { readSelectionFile, writeSelectionFile } from '../../src/core/s2ft/selectionFile';
import type { Selection } from '../../src/core/s2ft/types';
import {
  Tally,
  byteOp,
  duplicateFirstKey,
  hostileKey,
  hostileValue,
  jsonOp,
  mutateBytes,
  mutateJson,
  preview,
  runOne,
  serialize,
} from './harness';

const config = tinyConfig(); // 2 layers, 4 heads, 2 kv heads, 48 FFN channels
const FIELDS = ['heads', 'channels', 'vHeads', 'upChannels'] as const;

const subset = (n: number) => fc.uniqueArray(fc.nat({ max: n - 1 }), { maxLength: Math.min(n, 6) });
const validSelection: fc.Arbitrary<Selection> = fc
  .array(
    fc.record(
      {
        heads: subset(config.numHeads),
        channels: subset(config.intermediateSize),
        vHeads: fc.option(subset(config.numKvHeads), { nil: undefined }),
        upChannels: fc.option(subset(config.intermediateSize), { nil: undefined }),
      },
      { requiredKeys: ['heads', 'channels'] },
    ),
    { minLength: config.numLayers, maxLength: config.numLayers },
  )
  .map((layers) => ({ layers }));

const malformed: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(validSelection, fc.array(jsonOp, { minLength: 1, maxLength: 3 }))
      .map(([s, ops]) => mutateJson(writeSelectionFile(s), ops)),
  },
  // One layer given an extra key: "__proto__", "constructor", "toString" must not pass as known fields.
  {
    weight: 2,
    arbitrary: fc.tuple(validSelection, fc.nat(), hostileKey, hostileValue).map(([s, i, key, value]) => {
      const json = JSON.parse(writeSelectionFile(s)) as { layers: Record<string, unknown>[] };
      Object.defineProperty(json.layers[i % json.layers.length], key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      return serialize(json);
    }),
  },
  // A field, or one element of it, set to a hostile value.
  {
    weight: 2,
    arbitrary: fc
      .tuple(validSelection, fc.nat(), fc.constantFrom(...FIELDS), hostileValue, fc.boolean())
      .map(([s, i, field, value, whole]) => {
        const json = JSON.parse(writeSelectionFile(s)) as { layers: Record<string, unknown>[] };
        json.layers[i % json.layers.length][field] = whole ? value : [0, value];
        return serialize(json);
      }),
  },
  { weight: 1, arbitrary: validSelection.map((s) => duplicateFirstKey(writeSelectionFile(s))) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(validSelection, fc.array(byteOp, { minLength: 1, maxLength: 2 }))
      .map(([s, ops]) =>
        new TextDecoder().decode(
          ops.reduce<Uint8Array>((b, op) => mutateBytes(b, op), new TextEncoder().encode(writeSelectionFile(s))),
        ),
      ),
  },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    ),
  },
  { weight: 1, arbitrary: validSelection.map(writeSelectionFile) },
);

/** What a selection promises: one entry a layer, known fields only, unique in-range integers. */
function checkSelection(text: string, s: Selection): void {
  expect(s.layers).toHaveLength(config.numLayers);
  const raw = JSON.parse(text) as { layers: Record<string, unknown>[] };
  raw.layers.forEach((entry) => {
    for (const key of Object.keys(entry)) expect(FIELDS as readonly string[]).toContain(key);
  });
  const limits = {
    heads: config.numHeads,
    channels: config.intermediateSize,
    vHeads: config.numKvHeads,
    upChannels: config.intermediateSize,
  };
  for (const layer of s.layers) {
    for (const f of FIELDS) {
      const xs = layer[f];
      if (xs === undefined) continue;
      expect(new Set(xs).size).toBe(xs.length);
      expect(xs.every((x) => Number.isInteger(x) && x >= 0 && x < limits[f])).toBe(true);
    }
  }
}

describe('selection file reader under malformed input', () => {
  it('returns a selection that fits the model or a UserError', () => {
    const tally = new Tally('readSelectionFile');
    fc.assert(
      fc.property(malformed, (text) => {
        runOne(
          tally,
          { maxAllocationBytes: 1 << 16 },
          () => preview(text),
          () => checkSelection(text, readSelectionFile(text, config, 'fuzz-selection.json')),
        );
      }),
      { numRuns: 1500, seed: 84 },
    );
    tally.print();
    expect(tally.total).toBe(1500);
    expect(tally.count('accepted')).toBeGreaterThan(100);
    expect(tally.count('refused:bad-file')).toBeGreaterThan(300);
    expect(tally.count('refused:wrong-model')).toBeGreaterThan(50);
  });
});
