/** Sampling on hand-built distributions: temperature, top-k, top-p (HF's rule), seeded draws. */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../random';
import { argmax, filteredDistribution, sampleToken } from './sampling';

const probs = [0.15, 0.5, 0.05, 0.3];
const logits = probs.map(Math.log);

describe('filteredDistribution', () => {
  it('temperature rescales logits before the softmax', () => {
    const { ids, probs: p } = filteredDistribution(logits, { temperature: 2 });
    const expected = probs.map((q) => Math.sqrt(q));
    const z = expected.reduce((s, q) => s + q, 0);
    expect(ids).toEqual([1, 3, 0, 2]);
    ids.forEach((id, i) => expect(p[i]).toBeCloseTo(expected[id] / z, 12));
  });

  it('top-k keeps the k most likely tokens', () => {
    const { ids, probs: p } = filteredDistribution(logits, { temperature: 1, topK: 2 });
    expect(ids).toEqual([1, 3]);
    expect(p[0]).toBeCloseTo(0.5 / 0.8, 12);
  });

  // HF TopPLogitsWarper removes tokens whose ascending cumulative probability is ≤ 1 - p.
  it.each([
    [0.5, [1]],
    [0.6, [1, 3]],
    [0.79, [1, 3]],
    [0.85, [1, 3, 0]],
    [1, [1, 3, 0, 2]],
  ])('top-p %f keeps %j', (topP, kept) => {
    expect(filteredDistribution(logits, { temperature: 1, topP }).ids).toEqual(kept);
  });
});

describe('sampleToken', () => {
  it('temperature 0 is argmax', () => {
    expect(sampleToken(logits, { temperature: 0 }, () => 0.99)).toBe(1);
    expect(argmax([1, 3, 3, 2])).toBe(1);
  });

  it('draw frequencies follow the filtered distribution (top-p 0.6)', () => {
    const random = mulberry32(123);
    const counts = new Map<number, number>();
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const t = sampleToken(logits, { temperature: 1, topP: 0.6 }, random);
      counts.set(t, (counts.get(t) ?? 0) + 1);
    }
    const f1 = (counts.get(1) ?? 0) / n;
    console.log(`top-p 0.6 frequency of token 1: ${f1.toFixed(4)} (expected ${(0.5 / 0.8).toFixed(4)}, tol 0.02)`);
    expect([...counts.keys()].sort()).toEqual([1, 3]);
    expect(Math.abs(f1 - 0.625)).toBeLessThan(0.02);
  });

  it('mulberry32 is deterministic by seed and uniform-looking', () => {
    const a = mulberry32(5),
      b = mulberry32(5),
      c = mulberry32(6);
    const xs = Array.from({ length: 1000 }, a);
    expect(Array.from({ length: 1000 }, b)).toEqual(xs);
    expect(Array.from({ length: 1000 }, c)).not.toEqual(xs);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});
