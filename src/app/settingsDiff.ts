/** The settings that differ between runs, for the Compare panel. */
import type { RunSummary } from '../../workers/api';

export interface DiffRow {
  setting: string;
  /** One value per run, in the order given. */
  values: string[];
}

function show(value: unknown): string {
  if (value === undefined || value === null) return '–';
  if (Array.isArray(value)) return value.length > 3 ? `${value.length} items` : JSON.stringify(value);
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Rows of every setting whose value is not the same in all runs (the selection as its size). */
export function settingsDiff(runs: readonly RunSummary[]): DiffRow[] {
  const described = runs.map(
    (r) =>
      ({
        ...r.settings,
        model: r.modelName,
        data: r.dataName,
        selection: r.selection
          ? `${r.selection.layers.reduce((n, l) => n + l.heads.length, 0)} heads, ${r.selection.layers.reduce((n, l) => n + l.channels.length, 0)} channels`
          : undefined,
      }) as Record<string, unknown>,
  );
  const keys = [...new Set(described.flatMap((d) => Object.keys(d)))].filter((k) => k !== 'name');
  return keys
    .map((setting) => ({ setting, values: described.map((d) => show(d[setting])) }))
    .filter((row) => new Set(row.values).size > 1);
}
