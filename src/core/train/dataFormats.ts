/**
 * The shapes a .jsonl dataset row may take, and the checks that turn a parsed JSON value into one
 * of them or into a precise reason why not. Tokenization happens later (data.ts); this file only
 * knows about JSON.
 *
 * Accepted rows (extra keys are ignored; the first matching shape in this order wins):
 *   {"input_ids": [...], "labels"?: [...]}        pre-tokenized; labels are HF causal-LM labels
 *   {"messages": [{"role", "content"}, ...]}       rendered with the model's chat template
 *   {"instruction", "input"?, "output"}            rendered with INSTRUCTION_TEMPLATE
 *   {"prompt", "completion"}                       prompt and answer as given
 *   {"text"}                                       a document; every token is a target
 */

import type { ChatMessage } from '../model/tokenizer';

/** Label value HF uses for positions that do not count in the loss. */
const IGNORED_LABEL = -100;

export type DatasetRow =
  | { kind: 'text'; text: string }
  | { kind: 'prompt'; prompt: string; answer: string }
  | { kind: 'messages'; messages: ChatMessage[] }
  | { kind: 'tokens'; inputIds: number[]; lossMask: boolean[] };

/** A row that cannot be used; the message completes "line N: …". */
export class RowError extends Error {}

/**
 * The instruction prompt (Alpaca-style). The model is trained on the output tokens only:
 *
 *   ### Instruction:
 *   {instruction}
 *
 *   ### Input:            (only when "input" is present and not empty)
 *   {input}
 *
 *   ### Response:
 *   {output}<eos>
 */
export function renderInstructionPrompt(instruction: string, input?: string): string {
  const inputBlock = input ? `### Input:\n${input}\n\n` : '';
  return `### Instruction:\n${instruction}\n\n${inputBlock}### Response:\n`;
}

/** Checks a parsed JSON value and says which dataset row it is. Throws RowError. */
export function parseRow(value: unknown, vocabSize: number | null): DatasetRow {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RowError(`expected a JSON object, got ${describeType(value)}`);
  }
  const row = value as Record<string, unknown>;
  if ('input_ids' in row) return parseTokens(row, vocabSize);
  if ('messages' in row) return { kind: 'messages', messages: parseMessages(row.messages) };
  if ('instruction' in row || 'output' in row) {
    const instruction = requireString(row, 'instruction');
    const input = 'input' in row && row.input !== null ? requireString(row, 'input', true) : undefined;
    const answer = requireString(row, 'output');
    return { kind: 'prompt', prompt: renderInstructionPrompt(instruction, input), answer };
  }
  if ('prompt' in row || 'completion' in row) {
    return { kind: 'prompt', prompt: requireString(row, 'prompt', true), answer: requireString(row, 'completion') };
  }
  if ('text' in row) return { kind: 'text', text: requireString(row, 'text') };
  const keys = Object.keys(row);
  const got =
    keys.length === 0
      ? 'an empty object'
      : `keys ${keys
          .slice(0, 8)
          .map((k) => JSON.stringify(k))
          .join(', ')}`;
  throw new RowError(
    `unknown row shape (${got}); expected {"text"}, {"instruction","input"?,"output"}, ` +
      '{"prompt","completion"}, {"messages":[{"role","content"}]} or {"input_ids","labels"?}',
  );
}

function requireString(row: Record<string, unknown>, key: string, mayBeEmpty = false): string {
  if (!(key in row)) throw new RowError(`missing "${key}"`);
  const v = row[key];
  if (typeof v !== 'string') throw new RowError(`"${key}" must be a string, got ${describeType(v)}`);
  if (!mayBeEmpty && v.length === 0) throw new RowError(`"${key}" is empty`);
  return v;
}

function parseMessages(value: unknown): ChatMessage[] {
  if (!Array.isArray(value)) throw new RowError(`"messages" must be an array, got ${describeType(value)}`);
  if (value.length === 0) throw new RowError('"messages" is empty');
  const messages = value.map((m: unknown, i): ChatMessage => {
    if (typeof m !== 'object' || m === null || Array.isArray(m)) {
      throw new RowError(`"messages"[${i}] must be an object, got ${describeType(m)}`);
    }
    const { role, content } = m as Record<string, unknown>;
    if (typeof role !== 'string')
      throw new RowError(`"messages"[${i}].role must be a string, got ${describeType(role)}`);
    if (typeof content !== 'string') {
      throw new RowError(`"messages"[${i}].content must be a string, got ${describeType(content)}`);
    }
    return { role, content };
  });
  if (!messages.some((m) => m.role === 'assistant' && m.content.length > 0)) {
    throw new RowError('"messages" has no non-empty "assistant" message to train on');
  }
  return messages;
}

function parseTokens(row: Record<string, unknown>, vocabSize: number | null): DatasetRow {
  const inputIds = row.input_ids;
  if (!Array.isArray(inputIds)) throw new RowError(`"input_ids" must be an array, got ${describeType(inputIds)}`);
  if (inputIds.length === 0) throw new RowError('"input_ids" is empty');
  const limit = vocabSize ?? 2 ** 31;
  const range = vocabSize === null ? `[0, 2^31)` : `[0, ${vocabSize}) (the vocabulary size)`;
  inputIds.forEach((id: unknown, i) => {
    if (typeof id !== 'number' || !Number.isInteger(id)) {
      throw new RowError(`"input_ids"[${i}] must be an integer, got ${describeValue(id)}`);
    }
    if (id < 0 || id >= limit) throw new RowError(`"input_ids"[${i}] = ${id} is outside ${range}`);
  });
  const ids = inputIds as number[];
  if (!('labels' in row) || row.labels === null) {
    return { kind: 'tokens', inputIds: ids, lossMask: ids.map(() => true) };
  }
  const labels = row.labels;
  if (!Array.isArray(labels)) throw new RowError(`"labels" must be an array, got ${describeType(labels)}`);
  if (labels.length !== ids.length) {
    throw new RowError(
      `"labels" has ${labels.length} entries but "input_ids" has ${ids.length}; they must be the same length`,
    );
  }
  // HF causal-LM labels are the input ids with -100 where a token is not a target (the model shifts them).
  const lossMask = labels.map((label: unknown, i) => {
    if (label === IGNORED_LABEL) return false;
    if (label !== ids[i]) {
      throw new RowError(
        `"labels"[${i}] must be -100 or equal "input_ids"[${i}] (${ids[i]}), got ${describeValue(label)}`,
      );
    }
    return true;
  });
  if (!lossMask.some((counted, i) => counted && i > 0)) {
    throw new RowError('"labels" leaves no target token (all -100 after the first position)');
  }
  return { kind: 'tokens', inputIds: ids, lossMask };
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function describeValue(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v);
  return describeType(v);
}
