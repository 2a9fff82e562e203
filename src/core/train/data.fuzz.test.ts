import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isUserError } from '../errors';
import { parseDataset, type DatasetTokenizer, type ParsedDataset } from './data';
import { charTokenizer } from './testTokenizer';

// The char tokenizer only knows ASCII; fuzzed text may hold any character, so fold codes into it.
const ascii = charTokenizer();
const tokenizer: DatasetTokenizer = {
  ...ascii,
  encode: (text, opts) => ascii.encode(Array.from(text, (c) => (c.charCodeAt(0) < 128 ? c : '?')).join(''), opts),
};

const value = fc.oneof(
  fc.string(),
  fc.integer({ min: -200, max: 300 }),
  fc.double(),
  fc.constant(null),
  fc.boolean(),
  fc.array(fc.integer({ min: -200, max: 300 }), { maxLength: 6 }),
  fc.array(
    fc.record(
      {
        role: fc.oneof(fc.constantFrom('user', 'assistant', 'system'), fc.integer()),
        content: fc.oneof(fc.string(), fc.integer()),
      },
      { requiredKeys: [] },
    ),
    { maxLength: 4 },
  ),
  fc.jsonValue({ maxDepth: 2 }),
);
const rowLike = fc
  .dictionary(
    fc.constantFrom(
      'text',
      'instruction',
      'input',
      'output',
      'prompt',
      'completion',
      'messages',
      'input_ids',
      'labels',
      'other',
    ),
    value,
    { maxKeys: 4 },
  )
  .map((o) => JSON.stringify(o));
const goodRow = fc
  .oneof(
    fc.record({ text: fc.string({ minLength: 1 }) }),
    fc.record({ instruction: fc.string(), output: fc.string({ minLength: 1 }) }),
    fc.record({ input_ids: fc.array(fc.integer({ min: 0, max: 127 }), { minLength: 1, maxLength: 6 }) }),
  )
  .map((o) => JSON.stringify(o));
const line = fc.oneof(
  goodRow,
  rowLike,
  rowLike,
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string(),
  rowLike.map((s) => s.slice(0, -1)),
);
const file = fc.array(line, { maxLength: 8 }).map((lines) => lines.join('\n'));

/** Every outcome is a parsed dataset with sane line errors, or a UserError with a message. */
function check(text: string, fileName: string, withTokenizer: boolean): 'parsed' | 'refused' {
  let parsed: ParsedDataset;
  try {
    parsed = parseDataset(text, fileName, { tokenizer: withTokenizer ? tokenizer : null, vocabSize: 128 });
  } catch (e) {
    if (!isUserError(e)) throw e;
    expect(e.message.length).toBeGreaterThan(fileName.length + 2);
    return 'refused';
  }
  const lines = text.split(/\r?\n/).length;
  for (const err of parsed.errors) {
    expect(err.line).toBeGreaterThanOrEqual(1);
    expect(err.line).toBeLessThanOrEqual(lines);
    expect(err.message.startsWith(`line ${err.line}: `)).toBe(true);
  }
  for (const e of parsed.examples) {
    expect(e.lossMask).toHaveLength(e.inputIds.length);
    expect(e.inputIds.every((id) => Number.isInteger(id) && id >= 0 && id < 128)).toBe(true);
  }
  expect(parsed.counts.examples + parsed.counts.brokenLines + parsed.counts.blankLines).toBe(parsed.counts.lines);
  return 'parsed';
}

describe('parseDataset under malformed input', () => {
  it('returns line errors or a UserError, never anything else', () => {
    const outcomes = { parsed: 0, refused: 0 };
    fc.assert(
      fc.property(file, fc.boolean(), (text, withTokenizer) => {
        outcomes[check(text, 'fuzz.jsonl', withTokenizer)]++;
      }),
      { numRuns: 4000, seed: 8 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.boolean(), (text, withTokenizer) => {
        outcomes[check(text, 'fuzz.txt', withTokenizer)]++;
      }),
      { numRuns: 1000, seed: 9 },
    );
    console.log('fuzz outcomes over 5000 inputs:', outcomes);
    expect(outcomes.parsed).toBeGreaterThan(100);
    expect(outcomes.refused).toBeGreaterThan(100);
  });
});
