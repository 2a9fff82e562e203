/** The short card (README.md) that ships next to each dataset. */

export interface CardFacts {
  title: string;
  what: string;
  source: string;
  licence: string;
  generation: string;
}

/** One file of public/datasets/index.json. */
export interface DatasetIndexEntry {
  name: string; // unique, e.g. "toy-tasks/test-shifted"
  dataset: string; // folder
  split: string;
  file: string; // path relative to public/datasets
  format: 'txt' | 'jsonl';
  bytes: number;
  rows?: number; // .jsonl only
  description: string;
  card: string; // README.md of the dataset
  /** A held-out split the studio uses as this file's validation set instead of a random share of its rows. */
  validation?: string;
}

export function datasetCard(facts: CardFacts, files: DatasetIndexEntry[]): string {
  const rows = files.map(
    (f) =>
      `| \`${f.file.split('/').pop()}\` | ${f.split} | ${f.format} | ${f.bytes.toLocaleString('en-US')} | ${f.rows ?? '–'} |`,
  );
  return [
    `# ${facts.title}`,
    '',
    facts.what,
    '',
    '| file | split | format | bytes | rows |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    `**Source.** ${facts.source}`,
    '',
    `**Licence.** ${facts.licence}`,
    '',
    `**How it was made.** ${facts.generation}`,
    '',
    'Regenerate with `npx tsx scripts/datasets/main.ts` (deterministic: the same files byte for byte).',
    '',
  ].join('\n');
}
