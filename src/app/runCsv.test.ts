import { describe, expect, it } from 'vitest';
import { csvField, writeStepCsv } from './runCsv';
import { exampleRun } from './testing/runRecord';

describe('step CSV', () => {
  it('has a header row and one row per step, every value in its column', () => {
    const run = exampleRun(12);
    const lines = writeStepCsv(run).split('\r\n');
    expect(lines.pop()).toBe(''); // ends with a line break
    expect(lines).toHaveLength(1 + 12);
    const header = lines[0].split(',');
    expect(header.slice(0, 3)).toEqual(['run', 'step', 'loss']);
    lines.slice(1).forEach((line, i) => {
      const cells = line.split(',');
      expect(cells).toHaveLength(header.length);
      const point = run.history.steps[i];
      expect(Number(cells[header.indexOf('step')])).toBe(point.step);
      expect(Number(cells[header.indexOf('loss')])).toBe(point.loss);
      expect(cells[header.indexOf('bytesAllocated')]).toBe(
        point.bytesAllocated === null ? '' : String(point.bytesAllocated),
      );
    });
  });

  it('quotes commas, quotes and line breaks, and keeps formulas as text', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a, b')).toBe('"a, b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField(-0.5)).toBe('-0.5');
    expect(csvField(null)).toBe('');
    const named = writeStepCsv(exampleRun(1, 'lora, "best"')).split('\r\n')[1];
    expect(named.startsWith('"lora, ""best""",1,')).toBe(true);
  });
});
