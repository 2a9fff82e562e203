// The bench's arithmetic and report code (never its timings): medians, ratios, targets, tables,
// the README block replacement, and the analytic FLOP count against a hand count.
import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../src/core/model/types';
import { replaceBenchBlock } from '../readme';
import { forwardFlops, layerLinearParams, stepFlops } from './flops';
import {
  checkTargets,
  markdownTable,
  median,
  methodsTable,
  ratio,
  shapeRatios,
  type MethodResult,
  type ShapeResult,
} from './stats';
import { barChart, logLineChart } from './svg';

const method = (m: MethodResult['method'], stepMs: number, peakBytes: number): MethodResult => ({
  method: m,
  trainableParams: 100,
  stepMs,
  stepMsAll: [stepMs],
  stepCpuMs: NaN,
  tokensPerSec: 1000 / stepMs,
  peakBytes,
  stepPeakBytes: peakBytes / 2,
  stepFlops: 1e9,
  flopsPerSec: 1e9 / stepMs,
  matmulFraction: 0.5,
});
const shape = (
  name: ShapeResult['shape'],
  s: [number, number],
  l: [number, number],
  f: [number, number],
): ShapeResult => ({
  shape: name,
  description: 'test',
  batchSize: 1,
  seqLen: 8,
  methods: [method('s2ft', ...s), method('lora', ...l), method('full', ...f)],
});

describe('bench statistics', () => {
  it('median of odd and even counts, unsorted input', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow();
  });

  it('ratio is NaN for a missing denominator', () => {
    expect(ratio(1, 4)).toBe(0.25);
    expect(ratio(1, 0)).toBeNaN();
  });

  it('shape ratios and targets use S²FT over full and over LoRA', () => {
    const w = shape('weights-dominated', [60, 30], [100, 40], [120, 100]);
    expect(shapeRatios(w)).toEqual({
      memoryVsFull: 0.3,
      memoryVsLora: 0.75,
      timeVsFull: 0.5,
      timeVsLora: 0.6,
      clock: 'wall',
    });
    // With CPU times measured for every method, the ratios use them instead of wall time.
    const withCpu = { ...w, methods: w.methods.map((m) => ({ ...m, stepCpuMs: m.method === 's2ft' ? 10 : 40 })) };
    expect(shapeRatios(withCpu)).toMatchObject({ timeVsFull: 0.25, timeVsLora: 0.25, clock: 'cpu' });
    const a = shape('activation-dominated', [90, 80], [100, 90], [100, 100]);
    const checks = checkTargets([w, a], 0.2);
    const met = Object.fromEntries(checks.map((c) => [c.name, c.met]));
    expect(met['weights-dominated: S²FT/full peak memory']).toBe(true); // 0.30 ≤ 0.35
    expect(met['activation-dominated: S²FT/full peak memory']).toBe(false); // 0.80 > 0.75
    expect(met['activation-dominated: S²FT/LoRA step time (wall)']).toBe(false); // 0.90 > 0.85
    expect(met['S²FT/LoRA adapter switch at hidden 4096']).toBe(false); // 0.2 > 0.1
    expect(checks).toHaveLength(9);
  });

  it('markdown tables escape pipes and show one row per method', () => {
    expect(markdownTable(['a', 'b'], [['x|y', '1']])).toBe('| a | b |\n| --- | --- |\n| x\\|y | 1 |');
    const t = methodsTable(shape('weights-dominated', [60, 30], [100, 40], [120, 100]));
    expect(t.split('\n')).toHaveLength(5);
    expect(t).toContain('S²FT wall time ÷');
    expect(t).toContain('| full FT |');
    expect(t).toContain('0.50'); // S²FT time ÷ full
  });

  it('the README block is replaced between markers, or appended under a heading', () => {
    const fresh = replaceBenchBlock('# Title\n', 'table 1');
    expect(fresh).toBe('# Title\n\n## Benchmarks\n\n<!-- bench:start -->\ntable 1\n<!-- bench:end -->\n');
    const again = replaceBenchBlock(`${fresh}after\n`, 'table 2');
    expect(again).toContain('<!-- bench:start -->\ntable 2\n<!-- bench:end -->\nafter');
    expect(again).not.toContain('table 1');
  });

  it('SVG charts are well-formed and carry their labels', () => {
    const bars = barChart('t', ['S²FT', 'LoRA'], [{ label: 'g<1>', values: [0.5, 1] }], 'y');
    expect(bars.startsWith('<svg')).toBe(true);
    expect(bars).toContain('g&lt;1&gt;');
    expect(bars.trim().endsWith('</svg>')).toBe(true);
    expect(
      logLineChart(
        't',
        [
          {
            name: 'a',
            points: [
              [256, 1],
              [4096, 100],
            ],
          },
        ],
        'x',
        'ms',
      ),
    ).toContain('<path d="M');
  });
});

describe('analytic FLOPs', () => {
  // D 4, F 8, H 2, Hkv 1, hd 2, V 10, L 1: linears q 4·4, k 2·4, v 2·4, o 4·4, gate/up/down 3·4·8.
  const c = {
    hiddenSize: 4,
    intermediateSize: 8,
    numHeads: 2,
    numKvHeads: 1,
    headDim: 2,
    vocabSize: 10,
    numLayers: 1,
  } as ModelConfig;

  it('counts linears, lm_head and attention by hand', () => {
    expect(layerLinearParams(c)).toBe(16 + 8 + 8 + 16 + 96);
    // B 1, T 3, N 3: 2·3·144 + 2·3·4·10 + 4·1·2·9·2
    expect(forwardFlops(c, 1, 3)).toBe(864 + 240 + 144);
  });

  it('full FT adds dW; S²FT and LoRA add their adapter work to the same frozen base', () => {
    const frozen = 2 * (864 + 240) + 3.5 * 144; // attention backward recomputes q·kᵀ: 2.5×
    expect(stepFlops(c, 1, 3, { method: 'full' })).toBe(frozen + 864 + 240);
    // N 3 < 4: small products. One column block of 2 columns on o_proj [4, 4]: 3·2·3·2·4;
    // one row block of 2 rows on up_proj [8, 4]: 3·2·3·2·4 (S [2, 4] meets the data on in = 4).
    expect(stepFlops(c, 1, 3, { method: 's2ft', blocks: [{ axis: 'columns', out: 4, in: 4, k: 2 }] })).toBe(
      frozen + 144,
    );
    expect(stepFlops(c, 1, 3, { method: 's2ft', blocks: [{ axis: 'rows', out: 8, in: 4, k: 2 }] })).toBe(frozen + 144);
    // B 2, T 3, N 6 ≥ 4: through the effective weight only dS is extra: 2·6·2·4.
    const frozen6 = 2 * (1728 + 480) + 3.5 * 288;
    expect(stepFlops(c, 2, 3, { method: 's2ft', blocks: [{ axis: 'columns', out: 4, in: 4, k: 2 }] })).toBe(
      frozen6 + 96,
    );
    // one LoRA pair of rank 1 on [4, 4]: 3·2·3·1·8
    expect(stepFlops(c, 1, 3, { method: 'lora', pairs: [{ out: 4, in: 4, rank: 1 }] })).toBe(frozen + 144);
  });
});
