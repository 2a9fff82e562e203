/** The tokenizer wrapper on a hand-built byte-level BPE tokenizer.json and a ChatML template. */
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
