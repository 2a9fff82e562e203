/**
 * A HuggingFace tokenizer (tokenizer.json + tokenizer_config.json) behind the small interface
 * the studio needs. Encoding follows the tokenizer's own defaults (its post-processor adds BOS
 * when HF would); the chat template comes from tokenizer_config.json only and is rendered by
 * @huggingface/jinja, a sandboxed interpreter (no code outside the template runs).
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { UserError } from '../errors';
import { renderChatTemplate, readChatTemplate, type ChatMessage } from './chatTemplate';
import { checkTokenizerConfig } from './tokenizerConfig';

export type { ChatMessage } from './chatTemplate';

export interface TextTokenizer {
  encode(text: string, opts?: { addSpecialTokens?: boolean }): number[];
  decode(ids: number[], opts?: { skipSpecialTokens?: boolean }): string;
  /** One more than the largest token id (added tokens included). */
  vocabSize: number;
  bosTokenId: number | null;
  eosTokenIds: number[];
  applyChatTemplate(messages: ChatMessage[], opts?: { addGenerationPrompt?: boolean }): string;
  hasChatTemplate: boolean;
}

type Json = Record<string, unknown>;

/** A special token in tokenizer_config.json is a string or an AddedToken object {content}. */
function tokenText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as Json).content === 'string')
    return (value as Json).content as string;
  return null;
}

export function loadTokenizer(
  tokenizerJson: object,
  tokenizerConfig: object | null,
  file = 'tokenizer.json',
): TextTokenizer {
  const config = (tokenizerConfig ?? {}) as Json;
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(tokenizerJson, config);
  } catch (e) {
    throw new UserError('bad-file', `cannot build the tokenizer: ${(e as Error).message}`, file);
  }
  let vocabSize = 0;
  for (const id of tok.get_vocab(true).values()) vocabSize = Math.max(vocabSize, id + 1);
  const idOf = (key: string): number | null => {
    const text = tokenText(config[key]);
    return text === null ? null : (tok.token_to_id(text) ?? null);
  };
  const bosTokenId = idOf('bos_token');
  const eos = idOf('eos_token');
  const sample = tok.encode('a', { add_special_tokens: true }).ids;
  checkTokenizerConfig(config, {
    bos: bosTokenId === null ? null : sample[0] === bosTokenId,
    eos: eos === null ? null : sample[sample.length - 1] === eos,
  });
  const template = readChatTemplate(config);
  // Every special token the template may refer to, as HF passes them (bos_token, eos_token, ...).
  const specialTokens: Record<string, string> = {};
  for (const key of ['bos_token', 'eos_token', 'unk_token', 'pad_token', 'sep_token', 'cls_token', 'mask_token']) {
    const text = tokenText(config[key]);
    if (text !== null) specialTokens[key] = text;
  }
  return {
    vocabSize,
    bosTokenId,
    eosTokenIds: eos === null ? [] : [eos],
    hasChatTemplate: template !== null,
    encode: (text, opts) => tok.encode(text, { add_special_tokens: opts?.addSpecialTokens ?? true }).ids,
    decode: (ids, opts) => tok.decode(ids, { skip_special_tokens: opts?.skipSpecialTokens ?? false }),
    applyChatTemplate(messages, opts) {
      if (template === null)
        throw new UserError('unsupported', 'this tokenizer has no chat_template', 'tokenizer_config.json');
      return renderChatTemplate(template, messages, {
        addGenerationPrompt: opts?.addGenerationPrompt ?? false,
        specialTokens,
      });
    },
  };
}
