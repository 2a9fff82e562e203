import { describe, expect, it } from 'vitest';
import { UserError } from '../errors';
import { parseDataset, renderInstructionPrompt, MAX_LINE_CHARS } from './data';
import { charTokenizer, ids, TEST_BOS, TEST_EOS } from './testTokenizer';

const tok = charTokenizer();
const jsonl = (...rows: unknown[]): string =>
  rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n');
const maskOf = (prompt: number, answer: number): boolean[] => [
  ...Array<boolean>(prompt).fill(false),
  ...Array<boolean>(answer).fill(true),
];

function userError(fn: () => unknown): UserError {
  try {
    fn();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('expected a UserError');
}

describe('parseDataset formats', () => {
  it('tokenizes a .txt file whole, every token a target', () => {
    const d = parseDataset('Call me\nIshmael.', 'book.txt', { tokenizer: charTokenizer({ bos: true }) });
    expect(d.format).toBe('txt');
    expect(d.examples).toHaveLength(1);
    expect(d.examples[0].inputIds).toEqual([TEST_BOS, ...ids('Call me\nIshmael.')]);
    expect(d.examples[0].lossMask.every(Boolean)).toBe(true);
    expect(d.counts).toMatchObject({ examples: 1, tokens: 17, targetTokens: 17, brokenLines: 0 });
    expect(d.eosTokenId).toBe(TEST_EOS);
  });

  it('reads {"text"} rows as documents', () => {
    const d = parseDataset(jsonl({ text: 'ab' }, { text: 'xyz', id: 7 }), 'd.jsonl', { tokenizer: tok });
    expect(d.examples.map((e) => e.inputIds)).toEqual([ids('ab'), ids('xyz')]);
    expect(d.examples.map((e) => e.source)).toEqual([1, 2]);
    expect(d.examples[1].lossMask).toEqual([true, true, true]);
  });

  it('trains instruction rows on the answer and eos only, with the documented template', () => {
    const prompt = '### Instruction:\nAdd.\n\n### Input:\n2 3\n\n### Response:\n';
    expect(renderInstructionPrompt('Add.', '2 3')).toBe(prompt);
    expect(renderInstructionPrompt('Add.')).toBe('### Instruction:\nAdd.\n\n### Response:\n');
    const d = parseDataset(jsonl({ instruction: 'Add.', input: '2 3', output: '5' }), 'i.jsonl', { tokenizer: tok });
    expect(d.examples[0].inputIds).toEqual([...ids(prompt), ...ids('5'), TEST_EOS]);
    expect(d.examples[0].lossMask).toEqual(maskOf(prompt.length, 2));
    expect(d.counts.targetTokens).toBe(2);
  });

  it('adds BOS once, before the prompt', () => {
    const d = parseDataset(jsonl({ prompt: 'Q', completion: 'A' }), 'p.jsonl', {
      tokenizer: charTokenizer({ bos: true }),
    });
    expect(d.examples[0].inputIds).toEqual([TEST_BOS, ...ids('Q'), ...ids('A'), TEST_EOS]);
    expect(d.examples[0].lossMask).toEqual([false, false, true, true]);
  });

  it('renders messages with the chat template and trains on assistant turns (with their end marker)', () => {
    const messages = [
      { role: 'system', content: 'S' },
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'yo' },
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'ok' },
    ];
    const d = parseDataset(jsonl({ messages }), 'c.jsonl', { tokenizer: tok });
    const text = 'system: S\nuser: hi\nassistant: yo\nuser: q\nassistant: ok\n';
    expect(d.examples[0].inputIds).toEqual(ids(text));
    const targets = d.examples[0].inputIds.filter((_, t) => d.examples[0].lossMask[t]);
    expect(String.fromCharCode(...targets)).toBe('yo\nok\n');
  });

  it('takes pre-tokenized rows without a tokenizer; labels -100 mark prompt tokens', () => {
    const d = parseDataset(
      jsonl({ input_ids: [5, 6, 7, 8], labels: [-100, -100, 7, 8] }, { input_ids: [3, 4] }),
      't.jsonl',
      { tokenizer: null, vocabSize: 10 },
    );
    expect(d.examples[0]).toEqual({ inputIds: [5, 6, 7, 8], lossMask: [false, false, true, true], source: 1 });
    expect(d.examples[1].lossMask).toEqual([true, true]);
    expect(d.eosTokenId).toBeNull();
  });

  it('skips blank lines, counts lines, accepts CRLF and a final newline', () => {
    const d = parseDataset('{"text":"a"}\r\n\r\n  \r\n{"text":"b"}\r\n', 'd.jsonl', { tokenizer: tok });
    expect(d.examples.map((e) => e.source)).toEqual([1, 4]);
    expect(d.counts).toMatchObject({ lines: 4, blankLines: 2, examples: 2, brokenLines: 0 });
  });
});

describe('parseDataset errors', () => {
  const cases: [string, string][] = [
    ['{"text": "a"', 'invalid JSON ('],
    ['[1, 2]', 'expected a JSON object, got an array'],
    ['"text"', 'expected a JSON object, got a string'],
    ['{"foo": 1, "bar": 2}', 'unknown row shape (keys "foo", "bar"); expected {"text"}'],
    ['{}', 'unknown row shape (an empty object)'],
    ['{"text": 5}', '"text" must be a string, got a number'],
    ['{"text": ""}', '"text" is empty'],
    ['{"instruction": "x", "output": ""}', '"output" is empty'],
    ['{"output": "x"}', 'missing "instruction"'],
    ['{"instruction": "x", "input": 3, "output": "y"}', '"input" must be a string, got a number'],
    ['{"prompt": "x"}', 'missing "completion"'],
    ['{"prompt": "x", "completion": null}', '"completion" must be a string, got null'],
    ['{"messages": {}}', '"messages" must be an array, got an object'],
    ['{"messages": []}', '"messages" is empty'],
    [
      '{"messages": [{"role": "user", "content": "a"}, {"role": 1, "content": "b"}]}',
      '"messages"[1].role must be a string, got a number',
    ],
    ['{"messages": [{"role": "user", "content": ["a"]}]}', '"messages"[0].content must be a string, got an array'],
    ['{"messages": ["hi"]}', '"messages"[0] must be an object, got a string'],
    ['{"messages": [{"role": "user", "content": "a"}]}', '"messages" has no non-empty "assistant" message to train on'],
    ['{"input_ids": "1 2"}', '"input_ids" must be an array, got a string'],
    ['{"input_ids": []}', '"input_ids" is empty'],
    ['{"input_ids": [1, 2.5]}', '"input_ids"[1] must be an integer, got 2.5'],
    ['{"input_ids": [1, "2"]}', '"input_ids"[1] must be an integer, got "2"'],
    ['{"input_ids": [1, 128]}', '"input_ids"[1] = 128 is outside [0, 128) (the vocabulary size)'],
    ['{"input_ids": [-1]}', '"input_ids"[0] = -1 is outside [0, 128)'],
    [
      '{"input_ids": [1, 2], "labels": [1]}',
      '"labels" has 1 entries but "input_ids" has 2; they must be the same length',
    ],
    ['{"input_ids": [1, 2], "labels": [1, 3]}', '"labels"[1] must be -100 or equal "input_ids"[1] (2), got 3'],
    ['{"input_ids": [1, 2], "labels": [1, -100]}', '"labels" leaves no target token'],
    ['{"input_ids": [1, 2], "labels": "x"}', '"labels" must be an array, got a string'],
  ];

  it.each(cases)('line %s → %s', (bad, reason) => {
    // The broken row is line 2, after a good row and before another, so the line number is checked.
    const d = parseDataset(`{"text":"ok"}\n${bad}\n{"text":"ok"}`, 'd.jsonl', { tokenizer: tok });
    expect(d.examples.map((e) => e.source)).toEqual([1, 3]);
    expect(d.counts.brokenLines).toBe(1);
    expect(d.errors).toHaveLength(1);
    expect(d.errors[0].line).toBe(2);
    expect(d.errors[0].message.startsWith(`line 2: ${reason}`)).toBe(true);
  });

  it('says where invalid JSON breaks', () => {
    const d = parseDataset('{"text":"ok"}\n{"text": "a",}', 'd.jsonl', { tokenizer: tok });
    console.log('invalid JSON message:', d.errors[0].message);
    expect(d.errors[0].message).toMatch(/^line 2: invalid JSON \(.* at column 14\)$/);
  });

  it('reports an over-long line without parsing it', () => {
    const long = JSON.stringify({ text: 'a'.repeat(MAX_LINE_CHARS) });
    const d = parseDataset(`{"text":"ok"}\n${long}`, 'd.jsonl', { tokenizer: tok });
    expect(d.errors[0].message).toBe(`line 2: line has 1,000,011 characters, over the limit of 1,000,000`);
  });

  it('keeps maxLineErrors messages but counts every broken line', () => {
    const text = ['{"text":"ok"}', ...Array.from({ length: 5 }, () => 'nope')].join('\n');
    const d = parseDataset(text, 'd.jsonl', { tokenizer: tok, maxLineErrors: 2 });
    expect(d.errors.map((e) => e.line)).toEqual([2, 3]);
    expect(d.counts.brokenLines).toBe(5);
  });

  it('refuses a file where every line is broken, quoting the first reasons', () => {
    const e = userError(() => parseDataset('{"text": 1}\n\n[]', 'bad.jsonl', { tokenizer: tok }));
    expect(e.code).toBe('bad-file');
    expect(e.message).toBe(
      'bad.jsonl: every line is broken (2 of 2): line 1: "text" must be a string, got a number; ' +
        'line 3: expected a JSON object, got an array',
    );
  });

  it('refuses empty files, unknown extensions, text without a tokenizer, chat without a template', () => {
    expect(userError(() => parseDataset('\n \n', 'e.jsonl', { tokenizer: tok })).message).toBe(
      'e.jsonl: the dataset has no rows (every line is blank)',
    );
    expect(userError(() => parseDataset('  ', 'e.txt', { tokenizer: tok })).message).toBe(
      'e.txt: the text file is empty',
    );
    expect(userError(() => parseDataset('x', 'data.csv', { tokenizer: tok })).code).toBe('unsupported');
    expect(userError(() => parseDataset('hello', 'a.txt', { tokenizer: null })).message).toMatch(
      /^a.txt: the model has no tokenizer/,
    );
    expect(userError(() => parseDataset('{"text":"hi"}', 'a.jsonl', { tokenizer: null })).message).toMatch(
      /only pre-tokenized \{"input_ids"\} rows can be used/,
    );
    const chat = '{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]}';
    expect(
      userError(() => parseDataset(chat, 'c.jsonl', { tokenizer: charTokenizer({ chat: false }) })).message,
    ).toMatch(/^c.jsonl: has \{"messages"\} rows but the model's tokenizer has no chat template/);
  });

  it('refuses files over the size limit before reading them', () => {
    const huge = { length: 200_000_001 } as unknown as string; // only .length is read before the check
    const e = userError(() => parseDataset(huge, 'big.txt', { tokenizer: tok }));
    expect(e.code).toBe('too-large');
    expect(e.message).toMatch(/200,000,001 characters, over the limit of 200,000,000/);
  });
});

describe('parseDataset with unusual chat templates', () => {
  const messages = [
    { role: 'user', content: 'hi' },
    { role: 'assistant', content: 'yo' },
  ];

  it('falls back to the message content when the template renders prefixes differently', () => {
    // This template numbers turns from the end, so a prefix is not a prefix of the whole.
    const tokenizer = {
      ...tok,
      applyChatTemplate: (ms: { role: string; content: string }[]) =>
        ms.map((m, i) => `${ms.length - i}${m.role}:${m.content};`).join(''),
    };
    const d = parseDataset(JSON.stringify({ messages }), 'c.jsonl', { tokenizer });
    const [e] = d.examples;
    expect(String.fromCharCode(...e.inputIds)).toBe('2user:hi;1assistant:yo;');
    expect(String.fromCharCode(...e.inputIds.filter((_, t) => e.lossMask[t]))).toBe('yo');
  });

  it('reports a conversation the template refuses as a broken line', () => {
    const tokenizer = {
      ...tok,
      applyChatTemplate: (ms: { role: string; content: string }[]) => {
        if (ms.some((m) => m.role === 'tool'))
          throw new UserError('bad-file', 'unknown role tool', 'tokenizer_config.json');
        return ms.map((m) => m.content).join('|');
      },
    };
    const bad = { messages: [{ role: 'tool', content: 'x' }, ...messages] };
    const d = parseDataset(jsonl({ messages }, bad), 'c.jsonl', { tokenizer });
    expect(d.examples).toHaveLength(1);
    expect(d.errors).toEqual([
      {
        line: 2,
        message: 'line 2: the chat template refused this conversation: tokenizer_config.json: unknown role tool',
      },
    ]);
  });
});
