/**
 * No silent field in tokenizer_config.json: every key is one @huggingface/tokenizers or
 * tokenizer.ts honours, one known not to change how text becomes ids (or ids text), or refused
 * in one line naming it and its value. add_bos_token / add_eos_token, which transformers' Llama
 * and Gemma tokenizers use to rebuild the post-processor, must agree with what tokenizer.json's
 * post-processor does; split_special_tokens and add_prefix_space must keep their defaults.
 */
import { describeJson } from '../describeJson';
import { UserError } from '../errors';

const FILE = 'tokenizer_config.json';

/** Keys the tokenizer reads: special tokens, the chat template, decoding options the library implements. */
const IMPLEMENTED = [
  'bos_token',
  'eos_token',
  'unk_token',
  'pad_token',
  'sep_token',
  'cls_token',
  'mask_token',
  'additional_special_tokens',
  'chat_template',
  'clean_up_tokenization_spaces',
  'remove_space',
  'do_lowercase_and_remove_accent',
  'add_bos_token', // checked against the post-processor below
  'add_eos_token',
];

/** Keys that do not change tokenization: metadata, padding/truncation defaults never used here, processor tokens. */
const INERT = [
  'tokenizer_class',
  'processor_class',
  'name_or_path',
  '_commit_hash',
  'model_max_length',
  'max_length',
  'stride',
  'truncation_strategy',
  'pad_to_multiple_of',
  'padding_side',
  'truncation_side',
  'model_input_names',
  'pad_token_type_id',
  'added_tokens_decoder', // the same tokens as tokenizer.json's added_tokens
  'extra_special_tokens', // names for tokens tokenizer.json already marks special (Gemma's image tokens)
  'boi_token',
  'eoi_token',
  'image_token',
  'errors', // how undecodable bytes print: "replace" everywhere
  'legacy', // only used when converting a slow sentencepiece model; tokenizer.json is already converted
  'sp_model_kwargs', // the slow tokenizer's options
  'spaces_between_special_tokens', // the slow tokenizer's decode option
  'use_default_system_prompt', // pre-chat_template convention, unused by transformers' chat templates
  'vocab_file',
  'merges_file',
  'tokenizer_file',
  'from_slow',
  'use_fast',
];

const KNOWN = new Set([...IMPLEMENTED, ...INERT, 'split_special_tokens', 'add_prefix_space']);

function refuse(key: string, value: unknown, why: string): never {
  throw new UserError('unsupported', `${key} ${describeJson(value)} is not supported (${why})`, FILE);
}

/**
 * Checks tokenizer_config.json's keys. `adds` says whether the built tokenizer puts BOS / EOS
 * around an encoded text (null where the tokenizer has no such token).
 */
export function checkTokenizerConfig(
  config: Record<string, unknown>,
  adds: { bos: boolean | null; eos: boolean | null },
): void {
  for (const [key, value] of Object.entries(config)) {
    if (!KNOWN.has(key)) refuse(key, value, 'the studio does not know how it changes tokenization');
  }
  const isOn = (v: unknown) => v !== undefined && v !== null;
  if (isOn(config.split_special_tokens) && config.split_special_tokens !== false)
    refuse('split_special_tokens', config.split_special_tokens, 'special tokens are always matched whole');
  if (isOn(config.add_prefix_space) && config.add_prefix_space !== false)
    refuse('add_prefix_space', config.add_prefix_space, "tokenizer.json's pre-tokenizer is used as it is");
  for (const [key, does] of [
    ['add_bos_token', adds.bos],
    ['add_eos_token', adds.eos],
  ] as const) {
    const v = config[key];
    if (!isOn(v)) continue;
    if (typeof v !== 'boolean') refuse(key, v, 'true or false only');
    if (does !== null && v !== does)
      refuse(
        key,
        v,
        `tokenizer.json's post-processor ${does ? 'adds' : 'does not add'} that token, and transformers would rebuild it`,
      );
  }
}
