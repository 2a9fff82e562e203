// The claims experiment's scoring and reports (never its training): pooled accuracy per label,
// seed ranges and their comparison, the README block from a fixture, the README marker logic, and
// the fusion experiment's disjoint split of a selection.
import { describe, expect, it } from 'vitest';
import { blockMarkers, replaceBenchBlock, replaceMarkedBlock } from '../readme';
import {
  armSummaries,
  claimsFindings,
  claimsMarkdown,
  findingMarkdown,
  formatDelta,
  formatPercent,
  fusionSummaries,
  pooled,
  rate,
  separation,
  side,
  spread,
  verdict,
  type ArmRun,
  type ClaimsResults,
  type LabelAccuracy,
} from './claimsReport';
import { sharedUnits, splitSelection } from './fusionSelection';

const acc = (correct: number, total = 10): LabelAccuracy => ({ '7': { correct, total } });
const run = (seed: number, inDist: number, shifted: number, forgetting: number): ArmRun => ({
  seed,
  inDistribution: acc(inDist),
  shifted: acc(shifted),
  inDistributionLoss: 2 - inDist / 10,
  shiftedLoss: 3 - shifted / 10,
  heldOutLoss: 3.2 + forgetting,
  forgetting,
  finalTrainLoss: 1,
  trainSeconds: 1,
});

/** S²FT-A above LoRA on shifted accuracy for both seeds, overlapping full FT; it forgets least. */
const fixture: ClaimsResults = {
  name: 'claims',
  quick: false,
  machine: {
    os: 'Linux',
    cpus: 2,
    cpuModel: 'cpu',
    node: '20',
    browser: null,
    backend: 'wasm',
    date: '2026-11-29T03:00:00Z',
  },
  model: { name: 'moby-llama-800k', fingerprint: 'f', parameters: 803968, pretrainSteps: 2500 },
  settings: {
    steps: 60,
    batchSize: 8,
    seqLen: 13,
    loraRank: 8,
    optimizer: 'AdamW',
    schedule: 'linear',
    warmup: 0,
    gradClip: 1,
    lrChoice: 'probed',
    seeds: [0, 1],
    dataset: 'public/datasets/number-words',
    splits: {
      train: { rows: 270, what: 'the rest' },
      inDistribution: { rows: 54, what: 'held-out pairs' },
      shifted: { rows: 36, what: 'unseen things' },
    },
    s2ftUnitsPerLayer: { heads: 1, channels: 68 },
    heldOutSeqLen: 128,
    heldOutTokens: 43786,
    labels: ['3', '7'],
    fusionGroups: { a: ['3'], b: ['7'] },
  },
  base: { inDistribution: acc(0), shifted: acc(0), inDistributionLoss: 4, shiftedLoss: 5, heldOutLoss: 3.2306 },
  arms: [
    {
      arm: 's2ft-random',
      label: 'S²FT-R',
      method: 's2ft',
      trainableParams: 51200,
      lr: 0.01,
      runs: [run(0, 4, 2, 0.05), run(1, 5, 3, 0.06)],
    },
    {
      arm: 's2ft-activation-small',
      label: 'S²FT-A',
      method: 's2ft',
      trainableParams: 51200,
      lr: 0.01,
      runs: [run(0, 6, 4, 0.02), run(1, 7, 5, 0.03)],
    },
    {
      arm: 'lora',
      label: 'LoRA',
      method: 'lora',
      trainableParams: 51200,
      lr: 0.01,
      runs: [run(0, 6, 1, 0.2), run(1, 8, 2, 0.3)],
    },
    {
      arm: 'full',
      label: 'full FT',
      method: 'full',
      trainableParams: 803968,
      lr: 0.001,
      runs: [run(0, 9, 3, 0.5), run(1, 9, 6, 0.6)],
    },
  ],
  fusion: [0, 1].map((seed) => ({
    seed,
    conditions: [
      {
        kind: 'disjoint' as const,
        sharedUnits: 0,
        aloneA: { correct: 8, total: 10 },
        aloneB: { correct: 6, total: 10 },
        fusedA: { correct: 7, total: 10 },
        fusedB: { correct: 6, total: 10 },
      },
      {
        kind: 'overlapping' as const,
        sharedUnits: 69,
        aloneA: { correct: 8, total: 10 },
        aloneB: { correct: 5 + seed, total: 10 },
        fusedA: { correct: 2, total: 10 },
        fusedB: { correct: 1, total: 10 },
      },
    ],
  })),
  seconds: 840,
};

describe('claims scoring', () => {
  it('pools the labels asked for', () => {
    const a: LabelAccuracy = { '1': { correct: 1, total: 2 }, '5': { correct: 1, total: 1 } };
    expect(pooled(a)).toEqual({ correct: 2, total: 3 });
    expect(rate(pooled(a))).toBeCloseTo(2 / 3, 12);
    expect(rate(pooled(a, ['1']))).toBe(0.5);
    expect(rate(pooled(a, ['9']))).toBeNaN(); // nothing scored is not 0 %
  });

  it('spreads and their separation', () => {
    expect(spread([0.2, 0.4, 0.3])).toEqual({ mean: expect.closeTo(0.3, 12), min: 0.2, max: 0.4, n: 3 });
    expect(() => spread([])).toThrow();
    expect(separation(spread([0.5, 0.6]), spread([0.1, 0.4]))).toBe('higher');
    expect(separation(spread([0.1, 0.2]), spread([0.3, 0.4]))).toBe('lower');
    expect(separation(spread([0.1, 0.5]), spread([0.3, 0.4]))).toBe('overlap');
    expect(formatPercent(spread([0.6, 0.7]))).toBe('65.0 % (60.0–70.0)');
    expect(formatPercent(spread([0.25]))).toBe('25.0 %');
    expect(formatDelta(spread([-0.01, 0.03]))).toBe('+0.0100 (−0.0100…+0.0300)');
  });
});

describe('claims report', () => {
  it('summarises each arm over seeds, the base model first', () => {
    const rows = armSummaries(fixture);
    expect(rows.map((r) => r.arm)).toEqual(['base', 's2ft-random', 's2ft-activation-small', 'lora', 'full']);
    const act = rows[2];
    expect(act.shifted).toMatchObject({ min: 0.4, max: 0.5, n: 2 });
    expect(act.forgetting.mean).toBeCloseTo(0.025, 12);
    expect(rows[0].inDistributionLoss.mean).toBe(4);
  });

  it('fusion summaries pool the seeds per condition', () => {
    const [disjoint, overlapping] = fusionSummaries(fixture);
    expect(disjoint.kind).toBe('disjoint');
    expect(disjoint.fusedA.mean).toBeCloseTo(0.7, 12);
    expect(overlapping.aloneB).toMatchObject({ min: 0.5, max: 0.6 });
    expect(overlapping.sharedUnits).toBe(69);
  });

  it('findings give a verdict per claim, claiming a side only where every seed agrees', () => {
    const [generalization, forgetting, selection, context, fusion] = claimsFindings(fixture);
    // Shifted: S²FT-A 40–50 % vs LoRA 10–20 %: better; vs full FT 30–60 %: overlapping; loss likewise → not separated.
    expect(generalization.verdict).toBe('not separated');
    expect(generalization.detail).toContain(
      'S²FT-A 45.0 % (40.0–50.0) vs LoRA 15.0 % (10.0–20.0): better for every seed',
    );
    expect(generalization.detail).toContain('S²FT-A 45.0 % (40.0–50.0) vs full FT 45.0 % (30.0–60.0): not separated');
    // Both S²FT arms forget less (0.02–0.06) than LoRA (0.2–0.3) and full FT (0.5–0.6) for every seed.
    expect(forgetting.verdict).toBe('observed');
    expect(forgetting.detail).toContain(
      'S²FT-A +0.0250 (+0.0200…+0.0300) vs LoRA +0.2500 (+0.2000…+0.3000): better for every seed',
    );
    expect(selection.verdict).toBe('observed'); // 40–50 % vs 20–30 %, loss likewise
    // Shift gap per seed: S²FT-R (3 − 0.2) − (2 − 0.4) = 1.2, (3 − 0.3) − (2 − 0.5) = 1.2.
    expect(context.verdict).toBeNull();
    expect(context.detail).toContain('S²FT-R 1.200 (1.200–1.200)');
    // Fusion drop pooled over both groups: disjoint (8+6−7−6)/20 = 5 points per seed; overlapping (8+5−2−1)/20 = 50,
    // (8+6−3)/20 = 55.
    expect(fusion.verdict).toBe('observed');
    expect(fusion.detail).toContain('disjoint 5.0 (5.0–5.0) vs overlapping 52.5 (50.0–55.0): better for every seed');
    expect(
      findingMarkdown(fusion).startsWith('- **observed**: Adapters on disjoint selections fuse with less interference'),
    ).toBe(true);
    expect(findingMarkdown(context).startsWith('- Context, not a claim of the paper. In-distribution')).toBe(true);
  });

  it('a claim is not observed when one comparison goes the other way for every seed', () => {
    expect(side(spread([0.1, 0.2]), spread([0.3, 0.4]), true)).toBe('better'); // lower loss is better
    expect(side(spread([0.1, 0.2]), spread([0.3, 0.4]), false)).toBe('worse'); // lower accuracy is worse
    expect(verdict(['better', 'better'])).toBe('observed');
    expect(verdict(['better', 'overlap'])).toBe('not separated');
    expect(verdict(['better', 'worse', 'overlap'])).toBe('not observed');
    expect(verdict([])).toBe('not separated');
  });

  it('the README block has the settings, one row per arm plus the base, and the fusion table', () => {
    const md = claimsMarkdown(fixture);
    expect(md).toContain('pretrained 2500 steps');
    expect(md).toContain(
      'fine-tuned on `public/datasets/number-words` with each method: 270 training rows (the rest), 60 steps',
    );
    expect(md).toContain(
      'the in-distribution test (54 rows: held-out pairs) and the shifted test (36 rows: unseen things)',
    );
    expect(md).toContain('Adapter A trained on the training rows labelled 3, adapter B on those labelled 7');
    expect(md).toContain('1 head(s) (o_proj columns) and 68 FFN channels');
    const armRows = md.split('\n').filter((l) => /^\| (base|S²FT|LoRA|full)/.test(l));
    expect(armRows).toHaveLength(5);
    expect(armRows[1]).toContain('| 1.200 (1.200–1.200) |'); // S²FT-R's shift gap column
    expect(armRows[0]).toContain('3.2306 (the loss)');
    expect(armRows[4]).toMatch(/^\| full FT \| 804\.0 k \| 90\.0 % \(90\.0–90\.0\) \|/);
    expect(md).toContain('| overlapping | 69 | 80.0 % (80.0–80.0) | 20.0 % (20.0–20.0) |');
    expect(md).toContain('14.0 min');
  });
});

describe('README blocks by marker name', () => {
  it("a new block goes after another block's end marker, then is replaced in place", () => {
    const readme = replaceBenchBlock('# T\n', 'bench table') + '## Next\n';
    const once = replaceMarkedBlock(readme, 'claims', 'claims 1', blockMarkers('bench').end);
    expect(once).toContain('<!-- bench:end -->\n\n<!-- claims:start -->\nclaims 1\n<!-- claims:end -->\n## Next');
    const twice = replaceMarkedBlock(once, 'claims', 'claims 2', blockMarkers('bench').end);
    expect(twice).not.toContain('claims 1');
    expect(twice.match(/claims:start/g)).toHaveLength(1);
    expect(twice).toContain('<!-- bench:start -->\nbench table\n<!-- bench:end -->');
  });
});

describe('fusion selections', () => {
  const selection = {
    layers: [
      { heads: [3, 0], channels: [9, 2, 5, 7] },
      { heads: [1, 2], channels: [4, 8] },
    ],
  };

  it('splits every layer into two disjoint halves whose union is the selection', () => {
    const [a, b] = splitSelection(selection);
    expect(a.layers[0]).toEqual({ heads: [0], channels: [2, 7] });
    expect(b.layers[0]).toEqual({ heads: [3], channels: [5, 9] });
    expect(sharedUnits(a, b)).toBe(0);
    selection.layers.forEach((l, i) => {
      expect([...a.layers[i].channels, ...b.layers[i].channels].sort((x, y) => x - y)).toEqual(
        [...l.channels].sort((x, y) => x - y),
      );
    });
    expect(() => splitSelection({ layers: [{ heads: [0], channels: [], vHeads: [0] }] })).toThrow();
  });

  it('counts shared heads and channels layer by layer', () => {
    expect(sharedUnits(selection, selection)).toBe(10);
    // The same indices in another layer are not shared.
    expect(
      sharedUnits(
        {
          layers: [
            { heads: [1], channels: [] },
            { heads: [], channels: [] },
          ],
        },
        {
          layers: [
            { heads: [], channels: [] },
            { heads: [1], channels: [] },
          ],
        },
      ),
    ).toBe(0);
  });
});
