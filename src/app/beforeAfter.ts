/**
 * What a run changed, for the Train panel's "Before and after" block: the exact-match score at
 * step 0 and at the latest evaluation, and each sample prompt's greedy answer at step 0 beside
 * its latest one.
 */
import type { RunHistory } from './store';

export interface Score {
  step: number;
  correct: number;
  total: number;
}

export interface SideBySide {
  prompt: string;
  before: string;
  /** null until a later round of samples exists. */
  after: string | null;
}

export interface BeforeAfter {
  before: Score | null;
  /** The latest evaluation after step 0; null until there is one. */
  after: Score | null;
  /** The step of the latest samples shown as "after"; null until there are any. */
  afterStep: number | null;
  samples: SideBySide[];
}

export function beforeAfter(history: Pick<RunHistory, 'evals' | 'samples'>): BeforeAfter {
  const score = (e: RunHistory['evals'][number] | undefined): Score | null =>
    e?.exactMatch ? { step: e.step, ...e.exactMatch } : null;
  const scored = history.evals.filter((e) => e.exactMatch);
  const first = scored.find((e) => e.step === 0);
  const latest = scored.at(-1);
  const start = history.samples.find((r) => r.step === 0);
  const last = history.samples.at(-1);
  const later = last && last.step > 0 ? last : null;
  return {
    before: score(first),
    after: latest && latest.step > 0 ? score(latest) : null,
    afterStep: later?.step ?? null,
    samples: (start?.samples ?? []).map((s) => ({
      prompt: s.prompt,
      before: s.text,
      after: later?.samples.find((t) => t.prompt === s.prompt)?.text ?? null,
    })),
  };
}

/** "12 of 36 (33%)". */
export function formatScore(s: Score): string {
  return `${s.correct} of ${s.total} (${Math.round((100 * s.correct) / s.total)}%)`;
}
