// Structured fuzzing of the dataset parser, beyond src/core/train/data.fuzz.test.ts (random rows):
// here every row field gets hostile values (deep nesting, NaN/1e400 token ids, prototype keys,
// lone surrogates, template syntax in chat messages), files mix line endings and BOMs, and the
// tokenizer is a real HF tokenizer whose chat template runs in @huggingface/jinja. Every outcome
// is a parsed dataset with consistent counts or a UserError.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../src/core/model/tokenizer';
import { tinyTokenizerConfig, tinyTokenizerJson } from '../../src/core/model/testing/tinyTokenizer';
import { parseDataset } from '../../src/core/train/data';
import { Tally, hostileKey, hostileValue, preview, runOne, serialize } from './harness';

const tokenizer = loadTokenizer(tinyTokenizerJson(), tinyTokenizerConfig({ chat: true }));
const V = tokenizer.vocabSize;
const FIELDS = ['text', 'instruction', 'input', 'output', 'prompt', 'completion', 'messages', 'input_ids', 'labels'];

const hostileText = fc.constantFrom(
  'hello world',
  '',
  ' ',
  '\ud800',
  '\udfff lone',
  '\u2028\u2029',
  '\ufeffbom',
  'a\u0000b',
  '{{ 7 * 7 }}',
  '{% for i in range(99999999) %}x{% endfor %}',
  '{{ messages.constructor }}',
  "{{ ''.__class__ }}",
  '<|im_end|>',
  '</s><s>',
  '\u{1F600}'.repeat(50),
  'x'.repeat(5000),
);
const message = fc.record(
  {
    role: fc.oneof(fc.constantFrom('user', 'assistant', 'system', '__proto__', ''), hostileValue),
    content: fc.oneof(hostileText, hostileValue),
  },
  { requiredKeys: [] },
);

const row: fc.Arbitrary<string> = fc.oneof(
  // A plausible row with one field hostile.
  fc
    .tuple(
      fc.constantFrom(...FIELDS),
      hostileValue,
      fc.constantFrom(
        { text: 'hello' },
        { instruction: 'say', output: 'hello' },
        { prompt: 'p', completion: 'c' },
        { input_ids: [1, 2, 3], labels: [-100, 2, 3] },
        {
          messages: [
            { role: 'user', content: 'hi' },
            { role: 'assistant', content: 'hello' },
          ],
        },
      ),
    )
    .map(([field, value, base]) => {
      const r: Record<string, unknown> = JSON.parse(JSON.stringify(base));
      Object.defineProperty(r, field, { value, enumerable: true, writable: true, configurable: true });
      return serialize(r);
    }),
  // Chat rows: any roles and contents, template syntax included.
  fc.array(message, { maxLength: 4 }).map((messages) => serialize({ messages })),
  // Token rows with hostile ids and labels.
  fc
    .record(
      {
        input_ids: fc.array(fc.oneof(fc.integer({ min: -2, max: V + 2 }), hostileValue), { maxLength: 5 }),
        labels: fc.option(
          fc.array(fc.oneof(fc.constant(-100), fc.integer({ min: -2, max: V + 2 }), hostileValue), { maxLength: 5 }),
          { nil: undefined },
        ),
      },
      { requiredKeys: ['input_ids'] },
    )
    .map(serialize),
  // Prototype keys around a real row, and text rows with hostile strings.
  fc.tuple(hostileKey, hostileValue, fc.constantFrom('{"text":"hi"}', '{"output":"x"}', '{}')).map(([k, v, base]) => {
    const r: Record<string, unknown> = JSON.parse(base);
    Object.defineProperty(r, k, { value: v, enumerable: true, writable: true, configurable: true });
    return serialize(r);
  }),
  hostileText.map((text) => serialize({ text })),
  hostileValue.map(serialize),
);

const file = fc.record({
  lines: fc.array(row, { minLength: 0, maxLength: 6 }),
  newline: fc.constantFrom('\n', '\r\n', '\r', '\n\n', '\u2028'),
  bom: fc.boolean(),
  name: fc.constantFrom('fuzz.jsonl', 'FUZZ.JSONL', 'fuzz.txt', 'fuzz.csv', 'fuzz', '.jsonl'),
  withTokenizer: fc.boolean(),
});

describe('dataset parser under structured malformed input', () => {
  it('parses with consistent counts or refuses with a UserError', () => {
    const tally = new Tally('parseDataset (structured)');
    fc.assert(
      fc.property(file, ({ lines, newline, bom, name, withTokenizer }) => {
        const joined = (bom ? '\ufeff' : '') + lines.join(newline);
        // A .txt file is tokenized whole: cap it so the run measures the parser, not BPE on 200 kB.
        const text = name.endsWith('.txt') ? joined.slice(0, 20_000) : joined;
        runOne(
          tally,
          { maxAllocationBytes: 1 << 20 },
          () => `${name}: ${preview(text)}`,
          () => {
            const parsed = parseDataset(text, name, { tokenizer: withTokenizer ? tokenizer : null, vocabSize: V });
            expect(parsed.counts.examples + parsed.counts.brokenLines + parsed.counts.blankLines).toBe(
              parsed.counts.lines,
            );
            for (const e of parsed.examples) {
              expect(e.lossMask).toHaveLength(e.inputIds.length);
              expect(e.inputIds.every((id) => Number.isInteger(id) && id >= 0 && id < V)).toBe(true);
            }
          },
        );
      }),
      { numRuns: 1200, seed: 85 },
    );
    tally.print();
    expect(tally.total).toBe(1200);
    expect(tally.count('accepted')).toBeGreaterThan(100);
    expect(tally.count('refused:bad-file')).toBeGreaterThan(100);
    expect(tally.count('refused:unsupported')).toBeGreaterThan(50);
  });
});
