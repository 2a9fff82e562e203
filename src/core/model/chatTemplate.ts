/**
 * Chat templates (tokenizer_config.json `chat_template`) rendered with @huggingface/jinja, the
 * same way transformers' apply_chat_template does: variables `messages`, `add_generation_prompt`
 * and the special tokens (`bos_token`, `eos_token`, ...).
 *
 * A template is code from the checkpoint's author, so a render has a time budget: the
 * interpreter checks the clock every few hundred evaluation steps, and `range` (the one global
 * that builds a list in a single step) refuses lengths no chat needs, so a looping template is
 * stopped with a message naming it instead of hanging the page or the command.
 */
import { Environment, Interpreter, Template } from '@huggingface/jinja';
import { UserError } from '../errors';

/** A render stops after this long; a real template renders a conversation in milliseconds. */
export const RENDER_BUDGET_MS = 500;
/** The longest list `range` builds. */
const MAX_RANGE = 10_000;
const STEPS_PER_CLOCK_CHECK = 64;

class TemplateTimeout extends Error {}

/** A template stopped by the render budget: the template's fault, not one conversation's. */
export class ChatTemplateStopped extends UserError {}

/** The library's interpreter with a deadline checked as it evaluates. */
class BoundedInterpreter extends Interpreter {
  private steps = 0;

  constructor(
    env: Environment,
    private readonly deadline: number,
  ) {
    super(env);
  }

  override evaluate(...args: Parameters<Interpreter['evaluate']>): ReturnType<Interpreter['evaluate']> {
    if (++this.steps % STEPS_PER_CLOCK_CHECK === 0 && Date.now() > this.deadline) throw new TemplateTimeout();
    return super.evaluate(...args);
  }
}

/** Python's range, bounded. */
function boundedRange(start: number, stop?: number, step = 1): number[] {
  const [from, to] = stop === undefined ? [0, start] : [start, stop];
  if (step === 0) throw new Error('range() step must not be zero');
  const length = Math.max(0, Math.ceil((to - from) / step));
  if (!(length <= MAX_RANGE)) throw new TemplateTimeout();
  return Array.from({ length }, (_, i) => from + i * step);
}

/** Jinja's globals as @huggingface/jinja sets them (its setupGlobals is not exported), with a bounded range. */
function globals(): Record<string, unknown> {
  return {
    false: false,
    true: true,
    none: null,
    False: false,
    True: true,
    None: null,
    raise_exception: (message: string) => {
      throw new Error(message);
    },
    range: boundedRange,
    strftime_now: (format: string) => strftime(new Date(), format),
  };
}

/** The strftime subset @huggingface/jinja implements (%Y %m %d %b %B %H %M %%), used by Llama 3's template. */
function strftime(date: Date, format: string): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return format.replace(/%[YmdbBHM%]/g, (token) => {
    switch (token) {
      case '%Y':
        return String(date.getFullYear());
      case '%m':
        return pad(date.getMonth() + 1);
      case '%d':
        return pad(date.getDate());
      case '%b':
        return new Intl.DateTimeFormat(undefined, { month: 'short' }).format(date);
      case '%B':
        return new Intl.DateTimeFormat(undefined, { month: 'long' }).format(date);
      case '%H':
        return pad(date.getHours());
      case '%M':
        return pad(date.getMinutes());
      default:
        return '%';
    }
  });
}

/** A parsed chat template and the name it is known by in messages. */
export interface ChatTemplate {
  name: string;
  template: Template;
}

export interface ChatMessage {
  role: string;
  content: string;
}

const FILE = 'tokenizer_config.json';

/** The default chat template, or null. Accepts a string or HF's list of named templates. */
export function readChatTemplate(config: Record<string, unknown>): ChatTemplate | null {
  const raw = config.chat_template;
  if (raw === undefined || raw === null) return null;
  let source: unknown = raw;
  let name = 'chat_template';
  if (Array.isArray(raw)) {
    name = 'chat_template "default"';
    const named: unknown = (raw as unknown[]).find((t: unknown) => (t as { name?: unknown })?.name === 'default');
    source = (named as { template?: unknown } | undefined)?.template;
  }
  if (typeof source !== 'string')
    throw new UserError(
      'bad-file',
      'chat_template must be a string or a list of {name, template} with a "default" entry',
      FILE,
    );
  try {
    return { name, template: new Template(source) };
  } catch (e) {
    throw new UserError('bad-file', `chat_template does not parse: ${(e as Error).message}`, FILE);
  }
}

export function renderChatTemplate(
  chat: ChatTemplate,
  messages: ChatMessage[],
  opts: { addGenerationPrompt: boolean; specialTokens: Record<string, string> },
): string {
  const env = new Environment();
  const items = { ...globals(), messages, add_generation_prompt: opts.addGenerationPrompt, ...opts.specialTokens };
  for (const [key, value] of Object.entries(items)) env.set(key, value);
  try {
    const result = new BoundedInterpreter(env, Date.now() + RENDER_BUDGET_MS).run(chat.template.parsed);
    return String(result.value);
  } catch (e) {
    if (e instanceof TemplateTimeout) {
      throw new ChatTemplateStopped(
        'bad-file',
        `${chat.name} was stopped after ${RENDER_BUDGET_MS / 1000} s: it loops or builds something too large to render`,
        FILE,
      );
    }
    throw new UserError('bad-file', `${chat.name} failed to render: ${(e as Error).message}`, FILE);
  }
}
