import { describe, expect, it } from 'vitest';
import { MAX_CURVE_POINTS, MAX_RUN_FILE_CHARS, readRunFile, runFileName, writeRunFile } from './runFile';
import { exampleRun } from './testing/runRecord';

/** The exported file as JSON, changed by `edit`, as text again. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the edits break the file's types on purpose
function edited(edit: (file: Record<string, any>) => void): string {
  const file = JSON.parse(writeRunFile(exampleRun()));
  edit(file);
  return JSON.stringify(file);
}

const refusal = (text: string) => {
  try {
    readRunFile(text, 'mine.json');
  } catch (e) {
    return (e as Error).message;
  }
  return 'accepted';
};

describe('run file', () => {
  it('reads back exactly the record it wrote', () => {
    const run = exampleRun(7);
    expect(readRunFile(writeRunFile(run))).toEqual(run);
    const failed = {
      ...run,
      summary: { ...run.summary, status: 'error' as const, error: { code: 'internal', message: 'x' } },
    };
    expect(readRunFile(writeRunFile(failed))).toEqual(failed);
    const lora = { ...run, summary: { ...run.summary, method: 'lora' as const, selection: null } };
    expect(readRunFile(writeRunFile(lora))).toEqual(lora);
  });

  it('holds every curve point, sample and the selection', () => {
    const file = JSON.parse(writeRunFile(exampleRun(9)));
    expect([file.format, file.version]).toEqual(['s2ft-studio-run', 1]);
    expect([file.steps.length, file.evals.length, file.samples.length]).toEqual([9, 2, 1]);
    expect(file.summary.selection.layers[0].heads).toEqual([1]);
    expect(file.summary.settings.samplePrompts).toHaveLength(2);
  });

  it('drops fields it does not know', () => {
    const text = edited((f) => {
      f.steps[0].script = '<img onerror=alert(1)>';
      f.summary.extra = 1;
    });
    const read = readRunFile(text);
    expect(read.history.steps[0]).not.toHaveProperty('script');
    expect(read.summary).not.toHaveProperty('extra');
  });

  it('refuses hostile and foreign files with one specific message', () => {
    const cases: [string, string][] = [
      ['{"layers": [', 'not valid JSON'],
      ['[1, 2]', 'the file must be an object, got [1,2]'],
      [edited((f) => delete f.format), '"format" must be "s2ft-studio-run"'],
      [JSON.stringify({ model_type: 'llama' }), '"format" must be "s2ft-studio-run" (a run exported'],
      [edited((f) => (f.version = 2)), '"version" must be 1, the version this studio reads, got 2'],
      [edited((f) => delete f.steps), 'steps must be an array, got undefined'],
      [edited((f) => delete f.evals), 'evals must be an array, got undefined'],
      [edited((f) => (f.steps[2].loss = 'NaN')), 'steps[2].loss must be a number, got "NaN"'],
      [edited((f) => (f.steps[1].loss = null)), 'steps[1].loss must be a number, got null'],
      [edited((f) => (f.evals[1].evalLoss = '2.5')), 'evals[1].evalLoss must be a number, got "2.5"'],
      [edited((f) => (f.summary.settings.lr = 'fast')), 'summary.settings.lr must be a number, got "fast"'],
      [
        edited((f) => (f.summary.settings.gradAccum = 3)),
        'summary.settings: batchSize 8 must be a multiple of gradAccum 3',
      ],
      [edited((f) => (f.summary.method = 'dora')), 'summary.method must be one of s2ft, lora, full, got "dora"'],
      [
        edited((f) => (f.summary.selection.layers[1].channels = [-1])),
        'summary.selection.layers[1].channels[0] must be a whole number ≥ 0, got -1',
      ],
      [
        edited((f) => (f.samples[0].samples[0].text = 7)),
        'samples[0].samples[0].text must be a string of at most 100000 characters, got 7',
      ],
      [
        edited((f) => (f.steps = Array.from({ length: MAX_CURVE_POINTS + 1 }, () => f.steps[0]))),
        `steps has ${MAX_CURVE_POINTS + 1} items, over the limit of ${MAX_CURVE_POINTS}`,
      ],
      [
        ' '.repeat(MAX_RUN_FILE_CHARS + 1),
        `${MAX_RUN_FILE_CHARS + 1} characters, over the limit of ${MAX_RUN_FILE_CHARS}`,
      ],
    ];
    for (const [text, message] of cases) {
      const got = refusal(text);
      console.log(`refused: ${got.slice(0, 150)}`);
      expect(got.startsWith(`mine.json: ${message}`), `${got} should start with ${message}`).toBe(true);
    }
  });

  it('survives a deeply nested value without overflowing the stack', () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    expect(refusal(edited((f) => (f.summary.runId = '__DEEP__')).replace('"__DEEP__"', deep))).toMatch(
      /^mine\.json: summary\.runId must be a string of at most 200 characters, got \[\[\[/,
    );
  });

  it('names export files after the run, safely', () => {
    const run = exampleRun(3, 'lora #2 / "best"');
    expect(runFileName(run.summary, 'csv')).toBe('lora-2-best-run-1700000000000.csv');
  });
});
