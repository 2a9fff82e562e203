/**
 * A hand-built byte-level BPE tokenizer.json (GPT-2 / Llama 3 / SmolLM style) for tests:
 * lowercase letters, space as "Ġ", a few merges, <s> added by a TemplateProcessing
 * post-processor, and a ChatML-style chat template in tokenizer_config.json.
 */
const letters = 'abcdefghijklmnopqrstuvwxyz'.split('');
const special = ['<s>', '</s>', '<unk>', '<|im_start|>', '<|im_end|>'];
const merged = ['he', 'll', 'llo', 'hello', 'Ġw', 'or', 'Ġwor', 'ld', 'Ġworld'];

export const tinyVocab: Record<string, number> = Object.fromEntries(
  [...special, ...letters, 'Ġ', '\n', 'Ċ', ...merged].map((t, i) => [t, i]),
);

export function tinyTokenizerJson(options: { bos?: boolean } = {}): object {
  const bos = options.bos ?? true;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: special.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: bos
      ? {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [
            { SpecialToken: { id: '<s>', type_id: 0 } },
            { Sequence: { id: 'A', type_id: 0 } },
            { Sequence: { id: 'B', type_id: 1 } },
          ],
          special_tokens: { '<s>': { id: '<s>', ids: [0], tokens: ['<s>'] } },
        }
      : null,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: tinyVocab,
      merges: ['h e', 'l l', 'll o', 'he llo', 'Ġ w', 'o r', 'Ġw or', 'l d', 'Ġwor ld'],
    },
  };
}

export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

export function tinyTokenizerConfig(options: { chat?: boolean } = {}): object {
  return {
    bos_token: '<s>',
    eos_token: { content: '</s>', lstrip: false, normalized: false, rstrip: false, single_word: false },
    unk_token: '<unk>',
    clean_up_tokenization_spaces: false,
    ...((options.chat ?? true) ? { chat_template: CHATML_TEMPLATE } : {}),
  };
}
