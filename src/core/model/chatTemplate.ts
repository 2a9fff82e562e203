/**
 * Chat templates (tokenizer_config.json `chat_template`) rendered with @huggingface/jinja, the
 * same way transformers' apply_chat_template does: variables `messages`, `add_generation_prompt`
 * and the special tokens (`bos_token`, `eos_token`, ...).
 */
import { Template } from '@huggingface/jinja';
import { UserError } from '../errors';

export interface ChatMessage {
  role: string;
  content: string;
}

const FILE = 'tokenizer_config.json';

/** The default chat template, or null. Accepts a string or HF's list of named templates. */
export function readChatTemplate(config: Record<string, unknown>): Template | null {
  const raw = config.chat_template;
  if (raw === undefined || raw === null) return null;
  let source: unknown = raw;
  if (Array.isArray(raw)) {
    const named: unknown = (raw as unknown[]).find((t) => (t as { name?: unknown } | null)?.name === 'default');
    source = (named as { template?: unknown } | undefined)?.template;
  }
  if (typeof source !== 'string')
    throw new UserError(
      'bad-file',
      'chat_template must be a string or a list of {name, template} with a "default" entry',
      FILE,
    );
  try {
    return new Template(source);
  } catch (e) {
    throw new UserError('bad-file', `chat_template does not parse: ${(e as Error).message}`, FILE);
  }
}

export function renderChatTemplate(
  template: Template,
  messages: ChatMessage[],
  opts: { addGenerationPrompt: boolean; specialTokens: Record<string, string> },
): string {
  try {
    return template.render({ messages, add_generation_prompt: opts.addGenerationPrompt, ...opts.specialTokens });
  } catch (e) {
    throw new UserError('bad-file', `chat_template failed to render: ${(e as Error).message}`, FILE);
  }
}
