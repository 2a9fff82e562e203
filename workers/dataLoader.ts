/**
 * A dataset for the studio: a built-in file under /datasets or the user's own, parsed with the
 * model's tokenizer, split into train and validation, and summarised for the Data panel with a
 * preview of the first rows' tokens and which of them count in the loss.
 */
import { UserError } from '../src/core/errors';
import { shouldPack, splitTrainValidation } from '../src/core/train/batches';
import { parseDataset, type ParsedDataset, type TokenizedExample } from '../src/core/train/data';
import type { TextTokenizer } from '../src/core/model/tokenizer';
import type { DataOptions, DataSource, DataSummary, PreviewRow } from './api';

export const PREVIEW_ROWS = 8;
export const PREVIEW_TOKENS = 96;

export interface LoadedData {
  name: string;
  source: DataSource;
  options: DataOptions;
  format: 'txt' | 'jsonl';
  packed: boolean;
  train: TokenizedExample[];
  validation: TokenizedExample[];
  eosTokenId: number | null;
  summary: DataSummary;
}

/** Reads a built-in dataset file (path relative to datasetsBase) or returns the user's text. */
export async function readDataSource(
  source: DataSource,
  datasetsBase: string,
  fetchImpl: typeof fetch,
): Promise<{ name: string; text: string }> {
  if (source.kind === 'file') return { name: source.name, text: source.text };
  if (source.path.includes('..') || source.path.startsWith('/')) {
    throw new UserError('bad-argument', `built-in dataset path "${source.path}" must be relative to /datasets/`);
  }
  const url = `${datasetsBase.endsWith('/') ? datasetsBase : `${datasetsBase}/`}${source.path}`;
  const response = await fetchImpl(url);
  if (!response.ok) throw new UserError('missing-file', `HTTP ${response.status} fetching ${url}`, source.path);
  return { name: source.path, text: await response.text() };
}

export async function loadData(
  source: DataSource,
  options: DataOptions,
  tokenizer: TextTokenizer | null,
  vocabSize: number,
  datasetsBase: string,
  fetchImpl: typeof fetch,
): Promise<LoadedData> {
  const { name, text } = await readDataSource(source, datasetsBase, fetchImpl);
  const parsed = parseDataset(text, name, { tokenizer, vocabSize });
  checkVocabulary(parsed, vocabSize);
  let train: TokenizedExample[];
  let validation: TokenizedExample[];
  if (options.validation) {
    const held = await readDataSource(options.validation, datasetsBase, fetchImpl);
    const parsedHeld = parseDataset(held.text, held.name, { tokenizer, vocabSize });
    checkVocabulary(parsedHeld, vocabSize);
    train = parsed.examples;
    validation = parsedHeld.examples;
  } else {
    ({ train, validation } = splitTrainValidation(parsed.examples, options.validationFraction, options.seed));
  }
  const summary: DataSummary = {
    name,
    format: parsed.format,
    counts: { ...parsed.counts, trainExamples: train.length, validationExamples: validation.length },
    errors: parsed.errors,
    preview: previewRows(parsed.examples, tokenizer),
    ...(options.validation ? { validationPreview: previewRows(validation, tokenizer) } : {}),
    packed: shouldPack(parsed),
  };
  return {
    name,
    source,
    options,
    format: parsed.format,
    packed: summary.packed,
    train,
    validation,
    eosTokenId: parsed.eosTokenId,
    summary,
  };
}

/** A tokenizer larger than the model's embedding would index past it: say so instead of crashing later. */
function checkVocabulary(parsed: ParsedDataset, vocabSize: number): void {
  for (const e of parsed.examples) {
    const bad = e.inputIds.find((id) => id >= vocabSize);
    if (bad !== undefined) {
      throw new UserError(
        'bad-argument',
        `line ${e.source} has token id ${bad}, outside the model's vocabulary of ${vocabSize}`,
        parsed.fileName,
      );
    }
  }
}

function previewRows(examples: TokenizedExample[], tokenizer: TextTokenizer | null): PreviewRow[] {
  return examples.slice(0, PREVIEW_ROWS).map((e) => ({
    line: e.source,
    totalTokens: e.inputIds.length,
    tokens: e.inputIds.slice(0, PREVIEW_TOKENS).map((id, t) => ({
      id,
      text: tokenizer ? tokenizer.decode([id]) : `#${id}`,
      target: e.lossMask[t],
    })),
  }));
}
