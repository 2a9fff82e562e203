/** The short card (README.md) that ships next to each dataset. */
import type { DatasetIndexEntry } from './build';

export interface CardFacts {
  title: string;
  what: string;
  source: string;
  licence: string;
  generation: string;
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
