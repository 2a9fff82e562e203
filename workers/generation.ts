/**
 * The playground's generation: a prompt (text, a chat message or token ids) to ids, and ids to
 * text through a serving lease (the base, the last run's state or an adapter), released after.
 */
import { UserError } from '../src/core/errors';
import { generate } from '../src/core/model/generate';
import type { TextTokenizer } from '../src/core/model/tokenizer';
import type { GenerateOutput, GenerateRequest } from './api';
import type { ServingLease } from './adapterRegistry';

/** Token ids of a prompt: as given, the tokenizer's encoding, or a user turn in the chat template. */
export function promptIds(prompt: string | number[], chat: boolean, tokenizer: TextTokenizer | null): number[] {
  if (Array.isArray(prompt)) return prompt;
  if (!tokenizer) throw new UserError('unsupported', 'the model has no tokenizer: give the prompt as token ids');
  if (chat) {
    const text = tokenizer.applyChatTemplate([{ role: 'user', content: prompt }], { addGenerationPrompt: true });
    return tokenizer.encode(text, { addSpecialTokens: false });
  }
  return tokenizer.encode(prompt, { addSpecialTokens: true });
}

/** Generates from `ids` with the lease's weights, then releases it; `ms` counts from `started`. */
export async function generateWith(
  serving: ServingLease,
  ids: number[],
  options: GenerateRequest,
  tokenizer: TextTokenizer | null,
  started: number,
): Promise<GenerateOutput> {
  try {
    const result = await generate(serving.model, ids, {
      maxNewTokens: options.maxNewTokens,
      temperature: options.temperature ?? 0,
      topK: options.topK,
      topP: options.topP,
      seed: options.seed,
      linear: serving.linear,
    });
    const text = tokenizer ? tokenizer.decode(result.ids, { skipSpecialTokens: true }) : result.ids.join(' ');
    return { ids: result.ids, text, stoppedBy: result.stoppedBy, ms: performance.now() - started };
  } finally {
    serving.release();
  }
}
