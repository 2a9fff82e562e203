/**
 * A character-level tokenizer for tests of the data layer: id = character code (ASCII only),
 * id 0 is the end-of-sequence token, optional BOS id 1. Its chat template renders each message
 * as "role: content\n" and the generation prompt as "assistant: ".
 */
import type { ChatMessage } from '../model/tokenizer';
import type { DatasetTokenizer } from './data';

export const TEST_EOS = 0;
export const TEST_BOS = 1;

export function charTokenizer(options: { bos?: boolean; chat?: boolean } = {}): DatasetTokenizer {
  return {
    vocabSize: 128,
    eosTokenIds: [TEST_EOS],
    hasChatTemplate: options.chat ?? true,
    encode(text: string, opts?: { addSpecialTokens?: boolean }): number[] {
      const ids = Array.from(text, (c) => {
        const code = c.charCodeAt(0);
        if (code >= 128) throw new Error(`test tokenizer: non-ASCII character ${c}`);
        return code;
      });
      return options.bos && (opts?.addSpecialTokens ?? true) ? [TEST_BOS, ...ids] : ids;
    },
    applyChatTemplate(messages: ChatMessage[], opts?: { addGenerationPrompt?: boolean }): string {
      const turns = messages.map((m) => `${m.role}: ${m.content}\n`).join('');
      return opts?.addGenerationPrompt ? `${turns}assistant: ` : turns;
    },
  };
}

export const ids = (text: string): number[] => Array.from(text, (c) => c.charCodeAt(0));
