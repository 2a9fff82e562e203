/** The results file of one benchmark run, and its Markdown report (pure; shared by Node and browser). */
import type { PyTorchCase } from './realShape';
import type { ServingPoint, SwitchPoint } from './switching';
import { barChart } from './svg';
import {
  checkTargets,
  fmtRatio,
  ratio,
  stepClock,
  markdownTable,
  median,
  methodsTable,
  shapeRatios,
  targetsTable,
  type ShapeResult,
  type TargetCheck,
} from './stats';

export interface Machine {
  os: string;
  cpus: number;
  cpuModel: string;
  node: string | null;
  browser: string | null;
  backend: string;
  date: string;
}

export interface BenchResults {
  name: string;
  machine: Machine;
  quick: boolean;
  /** Max |gradient difference| of the run's backend against `cpu` on a tiny model, per method. */
  gradientCheck: { maxAbsDiff: Record<string, number>; tolerance: number } | null;
  matmulFlopsPerSec: number;
  shapes: ShapeResult[];
  switching: SwitchPoint[];
  serving: ServingPoint[];
  /** Our training step against the exported recipe in PyTorch, same machine, one thread each (null: not run). */
  pytorch?: PyTorchComparison | null;
  targets: TargetCheck[];
}

export interface PyTorchComparison {
  torch: string;
  /** The BLAS library torch loaded (checked not to be the reference BLAS). */
  blas: string;
  threads: 1;
  cases: PyTorchCase[];
}

/** Our step may take at most this many times PyTorch's (issue 15). */
export const PYTORCH_LIMIT = 2;

/** S²FT's analytic step FLOPs over another method's: the time ratio a perfectly efficient backend would show. */
export function flopRatio(s: ShapeResult, other: 'full' | 'lora'): number {
  const f = (m: string) => s.methods.find((x) => x.method === m)?.stepFlops ?? NaN;
  return ratio(f('s2ft'), f(other));
}

export function withTargets(r: Omit<BenchResults, 'targets'>): BenchResults {
  const at4096 = r.switching.find((p) => p.hidden === 4096);
  const torch = (r.pytorch?.cases ?? []).map((c) => ({
    name: `${c.name} at ${c.batchSize} × ${c.seqLen}: our step ÷ PyTorch's (CPU time, 1 thread)`,
    value: c.ratio,
    limit: PYTORCH_LIMIT,
    met: Number.isFinite(c.ratio) && c.ratio <= PYTORCH_LIMIT,
  }));
  return { ...r, targets: [...checkTargets(r.shapes, at4096 ? at4096.ratio : null), ...torch] };
}

/** The Markdown section of one run: machine, per-shape tables, ratios, switch and serving tables, targets. */
export function resultsMarkdown(r: BenchResults): string {
  const m = r.machine;
  const out: string[] = [
    `### ${r.name}${r.quick ? ' (quick)' : ''}`,
    '',
    `${m.backend} backend · ${m.node ? `Node ${m.node}` : m.browser} · ${m.os} · ${m.cpus}× ${m.cpuModel} · ${m.date.slice(0, 10)} · ` +
      `large matmul ${(r.matmulFlopsPerSec / 1e9).toFixed(1)} GFLOP/s`,
    '',
  ];
  for (const s of r.shapes) {
    const q = shapeRatios(s);
    out.push(
      `**${s.shape}** — ${s.description}, batch ${s.batchSize} × seq ${s.seqLen}. ` +
        `S²FT/full: ${q.clock} time ${fmtRatio(q.timeVsFull)}, memory ${fmtRatio(q.memoryVsFull)}; ` +
        `S²FT/LoRA: ${q.clock} time ${fmtRatio(q.timeVsLora)}, memory ${fmtRatio(q.memoryVsLora)}. ` +
        `Analytic FLOPs S²FT/full ${fmtRatio(flopRatio(s, 'full'))}, S²FT/LoRA ${fmtRatio(flopRatio(s, 'lora'))}.`,
      '',
      methodsTable(s),
      '',
    );
  }
  if (r.switching.length > 0) {
    out.push(
      "**Adapter switch** (one layer's o_proj + down_proj, matched parameters):",
      '',
      markdownTable(
        ['hidden', 'LoRA rank', 'S²FT switch', 'LoRA merge switch', 'S²FT ÷ LoRA'],
        r.switching.map((p) => [
          String(p.hidden),
          String(p.rank),
          `${p.s2ftMs.toFixed(1)} ms`,
          `${p.loraMs.toFixed(1)} ms`,
          fmtRatio(p.ratio),
        ]),
      ),
      '',
    );
  }
  if (r.serving.length > 0) {
    out.push(
      '**Multi-adapter serving** (one request per adapter, forward tokens/s):',
      '',
      markdownTable(
        ['adapters', 'base only', 'S²FT gather', 'LoRA gather', 'S²FT ÷ LoRA'],
        r.serving.map((p) => [
          String(p.adapters),
          p.baseTokensPerSec.toFixed(0),
          p.s2ftTokensPerSec.toFixed(0),
          p.loraTokensPerSec.toFixed(0),
          fmtRatio(p.s2ftTokensPerSec / p.loraTokensPerSec),
        ]),
      ),
      '',
    );
  }
  if (r.pytorch) {
    out.push(
      `**Against PyTorch** (torch ${r.pytorch.torch} on ${r.pytorch.blas}, the exported recipe; both on one thread, ` +
        'median process CPU time per update, interleaved in one run):',
      '',
      markdownTable(
        ['case', 'batch', 'ours', 'PyTorch', 'ours ÷ PyTorch', 'first loss (ours / PyTorch)'],
        r.pytorch.cases.map((c) => [
          `${c.name} (${c.description})`,
          `${c.batchSize} × ${c.seqLen}`,
          `${(median(c.oursCpuMs) / 1000).toFixed(2)} s`,
          `${(median(c.torchCpuMs) / 1000).toFixed(2)} s`,
          fmtRatio(c.ratio),
          `${c.firstLoss.ours.toFixed(4)} / ${c.firstLoss.torch.toFixed(4)}`,
        ]),
      ),
      '',
    );
  }
  out.push('**Targets** (issues 7 and 15):', '', targetsTable(r.targets), '');
  return out.join('\n');
}

/**
 * The bar chart of a run: each method's step time (on the targets' clock) and peak memory as fractions of full FT's.
 */
export function methodsChart(r: BenchResults): string {
  const groups = r.shapes.flatMap((s) => {
    const clock = stepClock(s.methods);
    const time = (m: ShapeResult['methods'][number]) => (clock === 'cpu' ? m.stepCpuMs : m.stepMs);
    const full = s.methods.find((m) => m.method === 'full');
    if (!full) return [];
    const name = s.shape.split('-')[0];
    return [
      { label: `${name} ${clock} time`, values: s.methods.map((m) => time(m) / time(full)) },
      { label: `${name} memory`, values: s.methods.map((m) => m.peakBytes / full.peakBytes) },
    ];
  });
  return barChart(
    `S²FT vs LoRA vs full FT, ${r.machine.backend} (relative to full FT)`,
    ['S²FT', 'LoRA', 'full FT'],
    groups,
    'fraction of full FT',
  );
}
