/**
 * Datasets: a .txt or .jsonl file becomes tokenized examples with a loss mask, plus a list of the
 * lines that could not be used and why. Batching lives in batches.ts; row shapes in dataFormats.ts.
 *
 * .txt    the whole file is one document, tokenized at once and later packed into windows.
 * .jsonl  one JSON object a line (shapes in dataFormats.ts). Prompt-style rows (instruction,
 *         prompt/completion, messages) count only the answer tokens in the loss; the answer of an
 *         instruction or prompt row is followed by the end-of-sequence token so the model learns
 *         to stop. Blank lines are skipped; broken lines are reported with their 1-based number.
 */
import { UserError } from '../errors';
import { ChatTemplateStopped } from '../model/chatTemplate';
import type { ChatMessage, TextTokenizer } from '../model/tokenizer';
import { parseRow, RowError, type DatasetRow } from './dataFormats';

export { renderInstructionPrompt } from './dataFormats';

/** Files over this many characters are refused (a browser tab would run out of memory). */
export const MAX_DATASET_CHARS = 200_000_000;
/** A .jsonl line over this many characters is reported as broken instead of parsed. */
export const MAX_LINE_CHARS = 1_000_000;
/** How many broken lines are kept with their messages (all are counted). */
export const DEFAULT_MAX_LINE_ERRORS = 100;

export interface TokenizedExample {
  inputIds: number[];
  /** True where the token is a target that counts in the loss. Same length as inputIds. */
  lossMask: boolean[];
  /** 1-based line number of the .jsonl row (1 for a .txt file). */
  source: number;
}

export interface DatasetLineError {
  line: number; // 1-based
  message: string;
}

export interface DatasetCounts {
  lines: number; // lines in the file (a .txt file counts as 1)
  blankLines: number;
  examples: number;
  brokenLines: number; // all of them, even beyond the errors kept
  tokens: number;
  targetTokens: number; // tokens whose lossMask is true
}

export interface ParsedDataset {
  fileName: string;
  format: 'txt' | 'jsonl';
  examples: TokenizedExample[];
  /** The first `maxLineErrors` broken lines, in file order. */
  errors: DatasetLineError[];
  counts: DatasetCounts;
  /** Separator between packed examples and padding id; null when there is no tokenizer. */
  eosTokenId: number | null;
}

/** What parsing needs from the model's tokenizer. */
export type DatasetTokenizer = Pick<
  TextTokenizer,
  'encode' | 'vocabSize' | 'eosTokenIds' | 'applyChatTemplate' | 'hasChatTemplate'
>;

export interface ParseDatasetOptions {
  tokenizer: DatasetTokenizer | null;
  /** Checks pre-tokenized ids when there is no tokenizer (the model's vocab_size). */
  vocabSize?: number;
  maxLineErrors?: number;
}

export function parseDataset(text: string, fileName: string, options: ParseDatasetOptions): ParsedDataset {
  const format = datasetFormat(fileName);
  if (text.length > MAX_DATASET_CHARS) {
    throw new UserError(
      'too-large',
      `dataset has ${text.length.toLocaleString('en-US')} characters, over the limit of ` +
        `${MAX_DATASET_CHARS.toLocaleString('en-US')}; split it or use a smaller file`,
      fileName,
    );
  }
  const { tokenizer } = options;
  const eosTokenId = tokenizer?.eosTokenIds[0] ?? null;
  const parsed = format === 'txt' ? parseTxt(text, fileName, tokenizer) : parseJsonl(text, fileName, options);
  const examples = parsed.examples;
  return {
    fileName,
    format,
    examples,
    errors: parsed.errors,
    eosTokenId,
    counts: {
      ...parsed.counts,
      examples: examples.length,
      tokens: examples.reduce((n, e) => n + e.inputIds.length, 0),
      targetTokens: examples.reduce((n, e) => n + e.lossMask.filter(Boolean).length, 0),
    },
  };
}

function datasetFormat(fileName: string): 'txt' | 'jsonl' {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.txt')) return 'txt';
  if (lower.endsWith('.jsonl')) return 'jsonl';
  throw new UserError(
    'unsupported',
    'unknown dataset format; use .txt (plain text) or .jsonl (one JSON object a line)',
    fileName,
  );
}

interface PartialParse {
  examples: TokenizedExample[];
  errors: DatasetLineError[];
  counts: Pick<DatasetCounts, 'lines' | 'blankLines' | 'brokenLines'>;
}

function parseTxt(text: string, fileName: string, tokenizer: DatasetTokenizer | null): PartialParse {
  if (text.trim().length === 0) throw new UserError('bad-file', 'the text file is empty', fileName);
  const inputIds = requireTokenizer(tokenizer, fileName).encode(text, { addSpecialTokens: true });
  return {
    examples: [{ inputIds, lossMask: inputIds.map(() => true), source: 1 }],
    errors: [],
    counts: { lines: 1, blankLines: 0, brokenLines: 0 },
  };
}

function parseJsonl(text: string, fileName: string, options: ParseDatasetOptions): PartialParse {
  const { tokenizer } = options;
  const vocabSize = tokenizer?.vocabSize ?? options.vocabSize ?? null;
  const maxLineErrors = options.maxLineErrors ?? DEFAULT_MAX_LINE_ERRORS;
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop(); // a final newline ends the last line
  const examples: TokenizedExample[] = [];
  const errors: DatasetLineError[] = [];
  let blankLines = 0;
  let brokenLines = 0;

  lines.forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim().length === 0) {
      blankLines++;
      return;
    }
    try {
      const row = parseRow(parseLineJson(raw), vocabSize);
      examples.push({ ...tokenizeRow(row, tokenizer, fileName), source: line });
    } catch (e) {
      if (!(e instanceof RowError)) throw e;
      brokenLines++;
      if (errors.length < maxLineErrors) errors.push({ line, message: `line ${line}: ${e.message}` });
    }
  });

  if (examples.length === 0) {
    if (brokenLines === 0) throw new UserError('bad-file', 'the dataset has no rows (every line is blank)', fileName);
    const shown = errors
      .slice(0, 3)
      .map((e) => e.message)
      .join('; ');
    throw new UserError('bad-file', `every line is broken (${brokenLines} of ${brokenLines}): ${shown}`, fileName);
  }
  return { examples, errors, counts: { lines: lines.length, blankLines, brokenLines } };
}

function parseLineJson(raw: string): unknown {
  if (raw.length > MAX_LINE_CHARS) {
    throw new RowError(
      `line has ${raw.length.toLocaleString('en-US')} characters, over the limit of ` +
        `${MAX_LINE_CHARS.toLocaleString('en-US')}`,
    );
  }
  try {
    return JSON.parse(raw);
  } catch (e) {
    // V8 says "… in JSON at position 13"; on one line a column (1-based) is what an editor shows.
    const reason = (e as Error).message.replace(
      / in JSON at position (\d+).*$/,
      (_, p: string) => ` at column ${Number(p) + 1}`,
    );
    throw new RowError(`invalid JSON (${reason})`);
  }
}

function requireTokenizer(tokenizer: DatasetTokenizer | null, fileName: string): DatasetTokenizer {
  if (tokenizer) return tokenizer;
  throw new UserError(
    'unsupported',
    'the model has no tokenizer (tokenizer.json), so only pre-tokenized {"input_ids"} rows can be used',
    fileName,
  );
}

type Tokenized = Omit<TokenizedExample, 'source'>;

function tokenizeRow(row: DatasetRow, tokenizer: DatasetTokenizer | null, fileName: string): Tokenized {
  if (row.kind === 'tokens') return { inputIds: row.inputIds, lossMask: row.lossMask };
  const tok = requireTokenizer(tokenizer, fileName);
  switch (row.kind) {
    case 'text': {
      const inputIds = tok.encode(row.text, { addSpecialTokens: true });
      return { inputIds, lossMask: inputIds.map(() => true) };
    }
    case 'prompt': {
      const eos = tok.eosTokenIds.length > 0 ? [tok.eosTokenIds[0]] : [];
      return concatSegments([
        { ids: tok.encode(row.prompt, { addSpecialTokens: true }), target: false },
        { ids: [...tok.encode(row.answer, { addSpecialTokens: false }), ...eos], target: true },
      ]);
    }
    case 'messages':
      return tokenizeChat(row.messages, tok, fileName);
  }
}

interface Segment {
  ids: number[];
  target: boolean;
}

function concatSegments(segments: Segment[]): Tokenized {
  const inputIds: number[] = [];
  const lossMask: boolean[] = [];
  for (const { ids, target } of segments) {
    for (const id of ids) {
      inputIds.push(id);
      lossMask.push(target);
    }
  }
  return { inputIds, lossMask };
}

/**
 * Renders a conversation with the chat template and marks the assistant turns as targets.
 * An assistant turn spans from the end of the prompt rendered up to it (with the generation
 * prompt) to the end of the conversation rendered through it, so the template's end-of-turn
 * marker is a target too. Segments are tokenized separately (as HF's trainers do); the template
 * writes its own special tokens, so none are added.
 */
function tokenizeChat(messages: ChatMessage[], tok: DatasetTokenizer, fileName: string): Tokenized {
  if (!tok.hasChatTemplate) {
    throw new UserError(
      'unsupported',
      'has {"messages"} rows but the model\'s tokenizer has no chat template (tokenizer_config.json "chat_template")',
      fileName,
    );
  }
  const full = renderChat(tok, messages, false);
  const segments: Segment[] = [];
  let cursor = 0;
  messages.forEach((m, i) => {
    if (m.role !== 'assistant') return;
    const span = templateSpan(full, messages, i, cursor, tok) ?? contentSpan(full, m.content, cursor);
    if (!span) throw new RowError(`could not find "messages"[${i}] in the chat template's rendering`);
    const [start, end] = span;
    segments.push({ ids: encodeRaw(full.slice(cursor, start), tok), target: false });
    segments.push({ ids: encodeRaw(full.slice(start, end), tok), target: true });
    cursor = end;
  });
  segments.push({ ids: encodeRaw(full.slice(cursor), tok), target: false });
  const tokenized = concatSegments(segments);
  if (!tokenized.lossMask.some(Boolean)) throw new RowError('the assistant messages rendered to no tokens');
  return tokenized;
}

/**
 * A template may refuse a conversation (e.g. roles that do not alternate): that is this row's
 * problem. One that loops is the template's, and stops the whole file at its first row.
 */
function renderChat(tok: DatasetTokenizer, messages: ChatMessage[], addGenerationPrompt: boolean): string {
  try {
    return tok.applyChatTemplate(messages, { addGenerationPrompt });
  } catch (e) {
    if (e instanceof UserError && !(e instanceof ChatTemplateStopped))
      throw new RowError(`the chat template refused this conversation: ${e.message}`);
    throw e;
  }
}

/** The assistant turn i as rendered by the template, if the template renders prefixes consistently. */
function templateSpan(
  full: string,
  messages: ChatMessage[],
  i: number,
  cursor: number,
  tok: DatasetTokenizer,
): [number, number] | null {
  let before: string;
  let through: string;
  try {
    before = renderChat(tok, messages.slice(0, i), true);
    through = renderChat(tok, messages.slice(0, i + 1), false);
  } catch (e) {
    if (e instanceof RowError) return null; // e.g. a template that refuses a conversation ending on the user
    throw e;
  }
  const consistent = through.startsWith(before) && full.startsWith(through) && before.length >= cursor;
  return consistent ? [before.length, through.length] : null;
}

/** Fallback for templates that render a prefix differently: the message content itself. */
function contentSpan(full: string, content: string, cursor: number): [number, number] | null {
  const start = full.indexOf(content, cursor);
  return start < 0 ? null : [start, start + content.length];
}

function encodeRaw(text: string, tok: DatasetTokenizer): number[] {
  return text.length === 0 ? [] : tok.encode(text, { addSpecialTokens: false });
}
