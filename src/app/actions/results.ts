/**
 * Taking results home and back: a finished run downloads as JSON (src/app/runFile.ts) or as CSV
 * (src/app/runCsv.ts), and a run file imports into Compare and is kept like the runs trained here.
 */
import { UserError } from '../../core/errors';
import { saveRun } from '../persistence';
import { MAX_RUN_FILE_CHARS, readRunFile, runFileName, writeRunFile } from '../runFile';
import { writeStepCsv } from '../runCsv';
import { useStudio, type RunRecord } from '../store';
import { downloadBytes } from './adapters';

export function downloadRunJson(record: RunRecord): void {
  downloadBytes(runFileName(record.summary, 'json'), writeRunFile(record), 'application/json');
}

export function downloadRunCsv(record: RunRecord): void {
  downloadBytes(runFileName(record.summary, 'csv'), writeStepCsv(record), 'text/csv');
}

/** Adds the run in the file to Compare; a bad file or a run already there is refused and nothing changes. */
export async function importRunFile(file: File): Promise<RunRecord> {
  // Refused unread: a file's bytes are never fewer than the characters readRunFile counts.
  if (file.size > MAX_RUN_FILE_CHARS)
    throw new UserError('too-large', `${file.size} bytes, over the limit of ${MAX_RUN_FILE_CHARS}`, file.name);
  const record = readRunFile(await file.text(), file.name);
  const twin = useStudio.getState().runs.find((r) => r.summary.runId === record.summary.runId);
  if (twin) throw new UserError('bad-file', `this run is already in Compare as "${twin.summary.name}"`, file.name);
  await saveRun(record);
  // In savedAt order, as loadRuns (src/app/persistence.ts) gives them after a reload.
  useStudio.setState((s) => ({ runs: [...s.runs, record].sort((a, b) => a.savedAt - b.savedAt) }));
  return record;
}
