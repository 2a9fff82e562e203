/** Text from the trained model for the card: greedy and sampled continuations of a few prompts. */
import { generate } from '../../src/core/model/generate';
import type { TextTokenizer } from '../../src/core/model/tokenizer';
import type { LlamaModel } from '../../src/core/model/types';

export const SAMPLE_PROMPTS = ['Call me Ishmael.', 'The whale', 'Captain Ahab said', 'It was a'];

/** Sampled continuations use temperature 0.8 and top-k 40, seeded. */
export const SAMPLING = { temperature: 0.8, topK: 40 };

export interface Sample {
  prompt: string;
  mode: 'greedy' | 'sampled';
  /** The continuation only (the prompt is not repeated). */
  text: string;
}

export async function makeSamples(
  model: LlamaModel,
  tokenizer: TextTokenizer,
  maxNewTokens: number,
  seed: number,
): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (const prompt of SAMPLE_PROMPTS) {
    const ids = tokenizer.encode(prompt);
    const greedy = await generate(model, ids, { maxNewTokens, temperature: 0 });
    samples.push({ prompt, mode: 'greedy', text: tokenizer.decode(greedy.ids, { skipSpecialTokens: true }) });
    const sampled = await generate(model, ids, { maxNewTokens, ...SAMPLING, seed });
    samples.push({ prompt, mode: 'sampled', text: tokenizer.decode(sampled.ids, { skipSpecialTokens: true }) });
  }
  return samples;
}
