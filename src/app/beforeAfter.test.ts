import { describe, expect, it } from 'vitest';
import type { EvalPoint } from '../../workers/api';
import { beforeAfter, formatScore } from './beforeAfter';

const evalAt = (step: number, correct: number | null): EvalPoint => ({
  step,
  evalLoss: 1,
  heldoutLoss: null,
  forgetting: null,
  exactMatch: correct === null ? null : { correct, total: 36 },
});
const round = (step: number, texts: string[]) => ({
  step,
  samples: texts.map((text, i) => ({ prompt: `p${i}`, text })),
});

describe('beforeAfter', () => {
  it('pairs step 0 with the latest evaluation and samples', () => {
    const view = beforeAfter({
      evals: [evalAt(0, 0), evalAt(10, 9), evalAt(20, 30)],
      samples: [round(0, [', and the', ' the']), round(10, [' 3', ' 4']), round(20, [' 7', ' 2'])],
    });
    expect(view.before).toEqual({ step: 0, correct: 0, total: 36 });
    expect(view.after).toEqual({ step: 20, correct: 30, total: 36 });
    expect(view.afterStep).toBe(20);
    expect(view.samples).toEqual([
      { prompt: 'p0', before: ', and the', after: ' 7' },
      { prompt: 'p1', before: ' the', after: ' 2' },
    ]);
    expect(formatScore(view.after!)).toBe('30 of 36 (83%)');
  });

  it('has no "after" before the run moves, and no score where none was measured', () => {
    const view = beforeAfter({ evals: [evalAt(0, null)], samples: [round(0, ['x'])] });
    expect(view).toEqual({
      before: null,
      after: null,
      afterStep: null,
      samples: [{ prompt: 'p0', before: 'x', after: null }],
    });
    expect(
      beforeAfter({ evals: [{ step: 0, evalLoss: null, heldoutLoss: null, forgetting: null }], samples: [] }),
    ).toEqual({ before: null, after: null, afterStep: null, samples: [] });
  });
});
