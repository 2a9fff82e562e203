/**
 * The arithmetic of the benchmark report: medians, ratios, the targets of issue 7 and the
 * Markdown table the README shows. Pure functions (no tfjs, no Node), shared by the Node run,
 * the browser run and the README generator.
 */
import { METHOD_LABEL } from '../../src/core/train/method';

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of an empty list');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** a / b, or NaN when b is not a positive number (a ratio to nothing means nothing). */
export function ratio(a: number, b: number): number {
  return b > 0 && Number.isFinite(a) ? a / b : NaN;
}

/** What one method measured on one shape. */
export interface MethodResult {
  method: 's2ft' | 'lora' | 'full';
  trainableParams: number;
  /** Median wall time of a timed step (after warm-up). */
  stepMs: number;
  stepMsAll: number[];
  /** Median process CPU time of a timed step (Node only, NaN elsewhere): robust to other load on a shared machine. */
  stepCpuMs: number;
  tokensPerSec: number;
  /** Highest tensor bytes held during a steady-state step (weights, optimizer state, activations, grads). */
  peakBytes: number;
  /** peakBytes minus the bytes held before the step. */
  stepPeakBytes: number;
  /** Analytic FLOPs of one step, and achieved FLOP/s as a fraction of the backend's large-matmul FLOP/s. */
  stepFlops: number;
  flopsPerSec: number;
  matmulFraction: number;
}

export interface ShapeResult {
  shape: 'weights-dominated' | 'activation-dominated';
  description: string;
  batchSize: number;
  seqLen: number;
  methods: MethodResult[];
}

export interface Ratios {
  memoryVsFull: number;
  memoryVsLora: number;
  /** Step-time ratios on the clock the targets use (see stepClock). */
  timeVsFull: number;
  timeVsLora: number;
  /** Which clock: process CPU time where measured (Node), else wall time. */
  clock: 'cpu' | 'wall';
}

/**
 * The step time the targets compare: process CPU time where it was measured (Node, where the
 * backend is single-threaded, so CPU time is the step's own work and does not count time spent
 * waiting for other processes on a shared machine), else the wall time (browser).
 */
export function stepClock(methods: readonly MethodResult[]): 'cpu' | 'wall' {
  return methods.every((m) => Number.isFinite(m.stepCpuMs) && m.stepCpuMs > 0) ? 'cpu' : 'wall';
}

export function shapeRatios(shape: ShapeResult): Ratios {
  const get = (m: MethodResult['method']): MethodResult => {
    const r = shape.methods.find((x) => x.method === m);
    if (!r) throw new Error(`${shape.shape}: no result for ${m}`);
    return r;
  };
  const s = get('s2ft'),
    l = get('lora'),
    f = get('full');
  const clock = stepClock(shape.methods);
  const t = (m: MethodResult) => (clock === 'cpu' ? m.stepCpuMs : m.stepMs);
  return {
    memoryVsFull: ratio(s.peakBytes, f.peakBytes),
    memoryVsLora: ratio(s.peakBytes, l.peakBytes),
    timeVsFull: ratio(t(s), t(f)),
    timeVsLora: ratio(t(s), t(l)),
    clock,
  };
}

/** One of issue 7's targets: a measured ratio that must not exceed `limit`. */
export interface TargetCheck {
  name: string;
  value: number;
  limit: number;
  met: boolean;
}

export function checkTargets(shapes: readonly ShapeResult[], switchRatio4096: number | null): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const add = (name: string, value: number, limit: number) =>
    checks.push({ name, value, limit, met: Number.isFinite(value) && value <= limit });
  for (const shape of shapes) {
    const r = shapeRatios(shape);
    add(`${shape.shape}: S²FT/full peak memory`, r.memoryVsFull, shape.shape === 'weights-dominated' ? 0.35 : 0.75);
    add(`${shape.shape}: S²FT/LoRA peak memory`, r.memoryVsLora, 0.85);
    add(`${shape.shape}: S²FT/full step time (${r.clock})`, r.timeVsFull, 0.62);
    add(`${shape.shape}: S²FT/LoRA step time (${r.clock})`, r.timeVsLora, 0.85);
  }
  if (switchRatio4096 !== null) add('S²FT/LoRA adapter switch at hidden 4096', switchRatio4096, 0.1);
  return checks;
}

export const fmtMiB = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
export const fmtRatio = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '—');
export const fmtCount = (n: number): string =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : String(n);

/** A Markdown table: header row, separator, rows (cells are escaped for pipes). */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The per-method table of one shape, with the S²FT ratios in the last two columns. */
export function methodsTable(shape: ShapeResult): string {
  const s2ft = shape.methods.find((m) => m.method === 's2ft');
  const clock = stepClock(shape.methods);
  const t = (m: MethodResult) => (clock === 'cpu' ? m.stepCpuMs : m.stepMs);
  const rows = shape.methods.map((m) => [
    METHOD_LABEL[m.method],
    fmtCount(m.trainableParams),
    `${m.stepMs.toFixed(0)} ms`,
    Number.isFinite(m.stepCpuMs) ? `${m.stepCpuMs.toFixed(0)} ms` : '—',
    m.tokensPerSec.toFixed(0),
    fmtMiB(m.peakBytes),
    `${(100 * m.matmulFraction).toFixed(0)} %`,
    s2ft ? fmtRatio(ratio(t(s2ft), t(m))) : '—',
    s2ft ? fmtRatio(ratio(s2ft.peakBytes, m.peakBytes)) : '—',
  ]);
  return markdownTable(
    [
      'method',
      'trainable',
      'step wall (median)',
      'step CPU (median)',
      'tokens/s',
      'peak tensor memory',
      'of matmul FLOP/s',
      `S²FT ${clock} time ÷`,
      'S²FT memory ÷',
    ],
    rows,
  );
}

export function targetsTable(checks: readonly TargetCheck[]): string {
  return markdownTable(
    ['target', 'measured', 'limit', 'met'],
    checks.map((c) => [c.name, fmtRatio(c.value), `≤ ${c.limit}`, c.met ? 'yes' : 'no']),
  );
}
