/** The tokenizer wrapper on a hand-built byte-level BPE tokenizer.json and a ChatML template. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadTokenizer } from './tokenizer';
import { CHATML_TEMPLATE, tinyTokenizerConfig, tinyTokenizerJson, tinyVocab } from './testing/tinyTokenizer';

describe('loadTokenizer', () => {
  const tok = loadTokenizer(tinyTokenizerJson(), tinyTokenizerConfig());

  it('encodes with the BPE merges and the post-processor BOS, and decodes back', () => {
    const ids = tok.encode('hello world');
    expect(ids).toEqual([0, tinyVocab.hello, tinyVocab['Ġworld']]);
    expect(tok.encode('hello world', { addSpecialTokens: false })).toEqual([tinyVocab.hello, tinyVocab['Ġworld']]);
    expect(tok.encode('hew')).toEqual([0, tinyVocab.he, tinyVocab.w]);
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe('hello world');
    expect(tok.decode(ids)).toBe('<s>hello world');
  });

  it('reads the special tokens and the vocabulary size', () => {
    expect(tok.bosTokenId).toBe(0);
    expect(tok.eosTokenIds).toEqual([1]);
    expect(tok.vocabSize).toBe(Object.keys(tinyVocab).length);
  });

  it('adds no BOS when the tokenizer has no post-processor', () => {
    const plain = loadTokenizer(tinyTokenizerJson({ bos: false }), tinyTokenizerConfig());
    expect(plain.encode('hello')).toEqual([tinyVocab.hello]);
  });

  it('renders the chat template with and without the generation prompt', () => {
    expect(tok.hasChatTemplate).toBe(true);
    const messages = [{ role: 'user', content: 'hello' }];
    expect(tok.applyChatTemplate(messages)).toBe('<|im_start|>user\nhello<|im_end|>\n');
    expect(tok.applyChatTemplate(messages, { addGenerationPrompt: true })).toBe(
      '<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n',
    );
    const ids = tok.encode(tok.applyChatTemplate(messages), { addSpecialTokens: false });
    expect(ids.slice(0, 1)).toEqual([tinyVocab['<|im_start|>']]);
    expect(ids).toContain(tinyVocab['<|im_end|>']);
  });

  it("accepts HF's list of named templates and exposes special tokens to the template", () => {
    const config = {
      ...tinyTokenizerConfig(),
      chat_template: [
        { name: 'tool_use', template: 'x' },
        { name: 'default', template: '{{ bos_token }}' + CHATML_TEMPLATE },
      ],
    };
    expect(loadTokenizer(tinyTokenizerJson(), config).applyChatTemplate([{ role: 'a', content: 'b' }])).toBe(
      '<s><|im_start|>a\nb<|im_end|>\n',
    );
  });

  it('renders like transformers: trim_blocks and lstrip_blocks are on', () => {
    const t = loadTokenizer(tinyTokenizerJson(), {
      chat_template:
        '{% for m in messages %}\n  {% if m.role == "user" %}\n{{ m.content }}\n  {% endif %}\n{% endfor %}',
    });
    expect(
      t.applyChatTemplate([
        { role: 'user', content: 'a' },
        { role: 'x', content: 'no' },
        { role: 'user', content: 'b' },
      ]),
    ).toBe('a\nb\n');
  });

  it('without a chat template: says so', () => {
    const noChat = loadTokenizer(tinyTokenizerJson(), tinyTokenizerConfig({ chat: false }));
    expect(noChat.hasChatTemplate).toBe(false);
    expect(() => noChat.applyChatTemplate([{ role: 'user', content: 'x' }])).toThrow(/has no chat_template/);
  });

  it('refuses a template that does not parse or raises, naming the file', () => {
    expect(() => loadTokenizer(tinyTokenizerJson(), { chat_template: '{% for %}' })).toThrow(
      /tokenizer_config.json: chat_template does not parse/,
    );
    const raising = loadTokenizer(tinyTokenizerJson(), {
      chat_template: "{{ raise_exception('roles must alternate') }}",
    });
    expect(() => raising.applyChatTemplate([])).toThrow(/chat_template failed to render: .*roles must alternate/);
  });

  it('loads with no tokenizer_config.json', () => {
    const t = loadTokenizer(tinyTokenizerJson(), null);
    expect(t.bosTokenId).toBeNull();
    expect(t.encode('hello', { addSpecialTokens: false })).toEqual([tinyVocab.hello]);
  });
});

describe('tokenizer_config.json: no silent field', () => {
  const base = tinyTokenizerConfig() as Record<string, unknown>;
  const load = (extra: Record<string, unknown>, bos = true) =>
    loadTokenizer(tinyTokenizerJson({ bos }), { ...base, ...extra });

  it('accepts what real checkpoints write (Gemma 3, Qwen3, TinyLlama keys) when it agrees with tokenizer.json', () => {
    const gemmaLike = {
      add_bos_token: true,
      add_eos_token: false,
      added_tokens_decoder: {},
      boi_token: '<start_of_image>',
      extra_special_tokens: { image_token: '<image_soft_token>' },
      model_max_length: 1e30,
      padding_side: 'left',
      processor_class: 'Gemma3Processor',
      sp_model_kwargs: {},
      spaces_between_special_tokens: false,
      tokenizer_class: 'GemmaTokenizer',
      use_default_system_prompt: false,
      legacy: false,
    };
    expect(load(gemmaLike).encode('hello')).toEqual([0, tinyVocab.hello]);
    const qwenLike = { add_bos_token: false, add_prefix_space: false, split_special_tokens: false, errors: 'replace' };
    expect(load({ ...qwenLike, bos_token: null }, false).encode('hello')).toEqual([tinyVocab.hello]);
  });

  // [what, extra fields, tokenizer.json adds BOS, message]
  const refused: [string, Record<string, unknown>, boolean, string][] = [
    [
      'an unknown key',
      { do_magic: 1 },
      true,
      'tokenizer_config.json: do_magic 1 is not supported (the studio does not know how it changes tokenization)',
    ],
    [
      'add_bos_token false over a post-processor that adds it',
      { add_bos_token: false },
      true,
      "tokenizer_config.json: add_bos_token false is not supported (tokenizer.json's post-processor adds that token, and transformers would rebuild it)",
    ],
    [
      'add_bos_token true over one that does not',
      { add_bos_token: true },
      false,
      "tokenizer_config.json: add_bos_token true is not supported (tokenizer.json's post-processor does not add that token, and transformers would rebuild it)",
    ],
    [
      'add_eos_token true',
      { add_eos_token: true },
      true,
      "tokenizer_config.json: add_eos_token true is not supported (tokenizer.json's post-processor does not add that token, and transformers would rebuild it)",
    ],
    [
      'split_special_tokens',
      { split_special_tokens: true },
      true,
      'tokenizer_config.json: split_special_tokens true is not supported (special tokens are always matched whole)',
    ],
    [
      'add_prefix_space',
      { add_prefix_space: true },
      true,
      "tokenizer_config.json: add_prefix_space true is not supported (tokenizer.json's pre-tokenizer is used as it is)",
    ],
  ];
  it.each(refused)('refuses %s, naming the key and its value', (_what, extra, bos, message) => {
    expect(() => load(extra, bos)).toThrow(message);
  });

  it('refuses any unknown key, whatever its name and value (fuzzed)', () => {
    const known = new Set([...Object.keys(base), 'add_bos_token', 'add_eos_token', 'split_special_tokens']);
    let refusedCount = 0;
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !known.has(k) && k !== '__proto__'),
        fc.oneof(fc.integer(), fc.boolean(), fc.string({ maxLength: 8 })),
        (key, value) => {
          let error: unknown;
          try {
            load({ [key]: value });
          } catch (e) {
            error = e;
          }
          // A real key with its default value (e.g. legacy, errors) may load; anything else is refused by name.
          if (error === undefined) return;
          expect((error as Error).message).toContain(
            `tokenizer_config.json: ${key} ${JSON.stringify(value)} is not supported`,
          );
          refusedCount++;
        },
      ),
      { numRuns: 200, seed: 14 },
    );
    console.log(`unknown tokenizer_config keys refused: ${refusedCount}/200`);
    expect(refusedCount).toBeGreaterThan(190);
  });
});
