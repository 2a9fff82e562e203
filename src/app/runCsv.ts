/**
 * A run's per-step metrics as CSV (RFC 4180): a header row, then one row per training step. The
 * first column names the run, so several runs' files can be concatenated into one sheet.
 */
import type { StepPoint } from '../../workers/api';
import type { RunRecord } from './store';

const COLUMNS = [
  'step',
  'loss',
  'lr',
  'gradNorm',
  'tokensPerSec',
  'stepMs',
  'elapsedMs',
  'bytesInUse',
  'bytesAllocated',
  'numTensors',
] as const satisfies readonly (keyof StepPoint)[];

/**
 * One CSV field: quoted when it holds a comma, a quote or a line break, quotes doubled. Text that a
 * spreadsheet would run as a formula (= + - @ first) is prefixed with ' so it stays text.
 */
export function csvField(value: string | number | null): string {
  const text =
    value === null ? '' : typeof value === 'string' && /^[=+\-@\t\r]/.test(value) ? `'${value}` : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function writeStepCsv(record: RunRecord): string {
  const rows = [['run', ...COLUMNS].join(',')];
  for (const point of record.history.steps)
    rows.push([record.summary.name, ...COLUMNS.map((c) => point[c])].map(csvField).join(','));
  return rows.join('\r\n') + '\r\n';
}
