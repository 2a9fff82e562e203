/**
 * The results of the paper-claims experiment (bench/experiments/claims.ts: the paper's
 * generalization, forgetting and fusion claims at small scale) and their summaries: exact-match
 * counts pooled over labels, mean and seed range per arm, and the findings the studio's Compare
 * panel shows and the bench's README block prints (bench/lib/claimsReport.ts). Pure: no Node, no
 * tfjs, so the studio bundle imports it with the committed results file.
 */

/** The machine a benchmark ran on, as every results file records it. */
export interface Machine {
  os: string;
  cpus: number;
  cpuModel: string;
  node: string | null;
  browser: string | null;
  backend: string;
  date: string;
}

export type ArmId = 's2ft-random' | 's2ft-activation-small' | 'lora' | 'full';

/** Exact-match counts of one label's rows. */
export interface Accuracy {
  correct: number;
  total: number;
}
/** Per label: the group a test row is scored under (claims.ts labels a number-words row by its answer). */
export type LabelAccuracy = Record<string, Accuracy>;

export interface ArmRun {
  seed: number;
  inDistribution: LabelAccuracy;
  shifted: LabelAccuracy;
  /** Mean cross-entropy of the answer tokens (nats/token) of each split, a graded view of the same rows. */
  inDistributionLoss: number;
  shiftedLoss: number;
  /** Held-out Moby Dick loss after fine-tuning (nats/token). */
  heldOutLoss: number;
  /** heldOutLoss − the base model's held-out loss (positive = forgetting). */
  forgetting: number;
  /** Mean training loss of the last 10% of the updates. */
  finalTrainLoss: number;
  trainSeconds: number;
}

export interface ArmResult {
  arm: ArmId;
  label: string;
  method: 's2ft' | 'lora' | 'full';
  trainableParams: number;
  lr: number;
  runs: ArmRun[];
}

/** Two S²FT adapters (group A's labels, group B's labels) alone and fused, on in-distribution rows. */
export interface FusionCondition {
  kind: 'disjoint' | 'overlapping';
  /** Heads + channels the two selections have in common. */
  sharedUnits: number;
  /** Accuracy on group A's rows of adapter A alone, on group B's rows of adapter B alone. */
  aloneA: Accuracy;
  aloneB: Accuracy;
  /** The same rows with both adapters fused into the base (weight 1 each). */
  fusedA: Accuracy;
  fusedB: Accuracy;
}

export interface FusionRun {
  seed: number;
  conditions: FusionCondition[];
}

export interface ClaimsSettings {
  steps: number;
  batchSize: number;
  seqLen: number;
  loraRank: number;
  optimizer: string;
  schedule: string;
  warmup: number;
  gradClip: number;
  /** How the steps and learning rates were chosen, in words. */
  lrChoice: string;
  seeds: number[];
  /** The dataset (a folder under public/datasets) and its three splits: rows and how they were chosen. */
  dataset: string;
  splits: Record<'train' | 'inDistribution' | 'shifted', Split>;
  /** The S²FT arms' budget: heads and FFN channels per layer (o_proj and down_proj columns). */
  s2ftUnitsPerLayer: { heads: number; channels: number };
  heldOutSeqLen: number;
  heldOutTokens: number;
  /** Every label, and the labels of the two fusion groups. */
  labels: string[];
  fusionGroups: { a: string[]; b: string[] };
}

export interface Split {
  rows: number;
  /** Which rows, in words. */
  what: string;
}

export interface ClaimsResults {
  name: string;
  quick: boolean;
  machine: Machine;
  model: { name: string; fingerprint: string; parameters: number; pretrainSteps: number | null };
  settings: ClaimsSettings;
  base: {
    inDistribution: LabelAccuracy;
    shifted: LabelAccuracy;
    inDistributionLoss: number;
    shiftedLoss: number;
    heldOutLoss: number;
  };
  arms: ArmResult[];
  fusion: FusionRun[];
  seconds: number;
}

/** The counts of the given labels (all when omitted) added together. */
export function pooled(acc: LabelAccuracy, labels?: readonly string[]): Accuracy {
  const parts = (labels ?? Object.keys(acc)).map((l) => acc[l]).filter((a): a is Accuracy => a !== undefined);
  return { correct: parts.reduce((n, a) => n + a.correct, 0), total: parts.reduce((n, a) => n + a.total, 0) };
}

const sum = (a: Accuracy, b: Accuracy): Accuracy => ({ correct: a.correct + b.correct, total: a.total + b.total });

/** correct / total; NaN when nothing was scored. */
export function rate(acc: Accuracy): number {
  return acc.total > 0 ? acc.correct / acc.total : NaN;
}

/** Mean and range of one quantity over seeds. */
export interface Spread {
  mean: number;
  min: number;
  max: number;
  n: number;
}

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) throw new Error('spread of no values');
  return {
    mean: values.reduce((a, b) => a + b, 0) / values.length,
    min: Math.min(...values),
    max: Math.max(...values),
    n: values.length,
  };
}

/** 'higher' / 'lower' when every seed of a is above / below every seed of b, else 'overlap'. */
export function separation(a: Spread, b: Spread): 'higher' | 'lower' | 'overlap' {
  if (a.min > b.max) return 'higher';
  if (a.max < b.min) return 'lower';
  return 'overlap';
}

export interface ArmSummary {
  arm: ArmId | 'base';
  label: string;
  trainableParams: number;
  inDistribution: Spread;
  shifted: Spread;
  inDistributionLoss: Spread;
  shiftedLoss: Spread;
  /** Shifted minus in-distribution answer loss, per seed: how unevenly what was learned transfers. */
  shiftGap: Spread;
  forgetting: Spread;
}

export function armSummaries(r: ClaimsResults): ArmSummary[] {
  const base: ArmSummary = {
    arm: 'base',
    label: 'base model (no fine-tuning)',
    trainableParams: 0,
    inDistribution: spread([rate(pooled(r.base.inDistribution))]),
    shifted: spread([rate(pooled(r.base.shifted))]),
    inDistributionLoss: spread([r.base.inDistributionLoss]),
    shiftedLoss: spread([r.base.shiftedLoss]),
    shiftGap: spread([r.base.shiftedLoss - r.base.inDistributionLoss]),
    forgetting: spread([0]),
  };
  return [
    base,
    ...r.arms.map((a) => ({
      arm: a.arm,
      label: a.label,
      trainableParams: a.trainableParams,
      inDistribution: spread(a.runs.map((x) => rate(pooled(x.inDistribution)))),
      shifted: spread(a.runs.map((x) => rate(pooled(x.shifted)))),
      inDistributionLoss: spread(a.runs.map((x) => x.inDistributionLoss)),
      shiftedLoss: spread(a.runs.map((x) => x.shiftedLoss)),
      shiftGap: spread(a.runs.map((x) => x.shiftedLoss - x.inDistributionLoss)),
      forgetting: spread(a.runs.map((x) => x.forgetting)),
    })),
  ];
}

export interface FusionSummary {
  kind: FusionCondition['kind'];
  sharedUnits: number;
  aloneA: Spread;
  aloneB: Spread;
  fusedA: Spread;
  fusedB: Spread;
  /** Accuracy lost by fusing, pooled over both groups' rows, per seed (positive = the fused model is worse). */
  drop: Spread;
}

export function fusionSummaries(r: ClaimsResults): FusionSummary[] {
  const kinds = [...new Set(r.fusion.flatMap((f) => f.conditions.map((c) => c.kind)))];
  return kinds.map((kind) => {
    const cs = r.fusion.flatMap((f) => f.conditions.filter((c) => c.kind === kind));
    const of = (key: 'aloneA' | 'aloneB' | 'fusedA' | 'fusedB') => spread(cs.map((c) => rate(c[key])));
    const drop = spread(cs.map((c) => rate(sum(c.aloneA, c.aloneB)) - rate(sum(c.fusedA, c.fusedB))));
    return {
      kind,
      sharedUnits: spread(cs.map((c) => c.sharedUnits)).mean,
      aloneA: of('aloneA'),
      aloneB: of('aloneB'),
      fusedA: of('fusedA'),
      fusedB: of('fusedB'),
      drop,
    };
  });
}

/** "41.2 %" for one seed, "41.2 % (38.0–44.4)" for several: the mean and the seeds' range. */
export function formatPercent(s: Spread): string {
  const p = (x: number) => (100 * x).toFixed(1);
  return s.n > 1 ? `${p(s.mean)} % (${p(s.min)}–${p(s.max)})` : `${p(s.mean)} %`;
}

/** A signed loss change: "+0.0123 (+0.0101…+0.0145)". */
export function formatDelta(s: Spread): string {
  const d = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(4)}`;
  return s.n > 1 ? `${d(s.mean)} (${d(s.min)}…${d(s.max)})` : d(s.mean);
}

/** A loss: "2.3456 (2.3012–2.3900)". */
export function formatLoss(s: Spread): string {
  return s.n > 1 ? `${s.mean.toFixed(3)} (${s.min.toFixed(3)}–${s.max.toFixed(3)})` : s.mean.toFixed(3);
}

/** One comparison's outcome in the paper's direction: better or worse for every seed, or not separated. */
export type Side = 'better' | 'worse' | 'overlap';

export function side(a: Spread, b: Spread, lowerIsBetter: boolean): Side {
  const s = separation(a, b);
  if (s === 'overlap') return 'overlap';
  return (s === 'lower') === lowerIsBetter ? 'better' : 'worse';
}

/** A claim is observed when every comparison goes its way, not observed when any goes the other way for every seed. */
export function verdict(sides: readonly Side[]): 'observed' | 'not observed' | 'not separated' {
  if (sides.length > 0 && sides.every((x) => x === 'better')) return 'observed';
  return sides.includes('worse') ? 'not observed' : 'not separated';
}

const WORDS: Record<Side, string> = {
  better: 'better for every seed',
  worse: 'worse for every seed',
  overlap: 'not separated',
};

/** One comparison in words, e.g. "S²FT-A 41.2 % (38.0–44.4) vs LoRA 30.0 % (28.0–32.0): better for every seed". */
function versus(a: Named, b: Named, key: MetricKey): { text: string; side: Side } {
  const { fmt, lowerIsBetter } = METRICS[key];
  const sd = side(a.row[key], b.row[key], lowerIsBetter);
  const oneSeed = a.row[key].n === 1 && b.row[key].n === 1 ? ' (one seed)' : '';
  return { text: `${a.name} ${fmt(a.row[key])} vs ${b.name} ${fmt(b.row[key])}: ${WORDS[sd]}${oneSeed}`, side: sd };
}

type MetricKey = 'shifted' | 'inDistribution' | 'shiftedLoss' | 'inDistributionLoss' | 'shiftGap' | 'forgetting';
const METRICS: Record<MetricKey, { fmt: (s: Spread) => string; lowerIsBetter: boolean }> = {
  shifted: { fmt: formatPercent, lowerIsBetter: false },
  inDistribution: { fmt: formatPercent, lowerIsBetter: false },
  shiftedLoss: { fmt: formatLoss, lowerIsBetter: true },
  inDistributionLoss: { fmt: formatLoss, lowerIsBetter: true },
  shiftGap: { fmt: formatLoss, lowerIsBetter: true },
  forgetting: { fmt: formatDelta, lowerIsBetter: true },
};
interface Named {
  name: string;
  row: ArmSummary;
}

export type Verdict = ReturnType<typeof verdict>;

/** One of the paper's claims (verdict set), or context (verdict null), with the numbers behind it. */
export interface Finding {
  claim: string;
  verdict: Verdict | null;
  detail: string;
}

function finding(claim: string, comparisons: { text: string; side: Side }[], detail = ''): Finding {
  return {
    claim,
    verdict: verdict(comparisons.map((c) => c.side)),
    detail: `${comparisons.map((c) => c.text).join('; ')}.${detail}`,
  };
}

/**
 * What the numbers say about each of the paper's claims. "Better" is in the paper's direction
 * (higher accuracy, lower loss, less forgetting); a side is claimed only when every seed agrees.
 */
export function claimsFindings(r: ClaimsResults): Finding[] {
  const rows = armSummaries(r);
  const named = (arm: ArmSummary['arm'], name: string): Named | null => {
    const row = rows.find((x) => x.arm === arm);
    return row ? { name, row } : null;
  };
  const act = named('s2ft-activation-small', 'S²FT-A'),
    rnd = named('s2ft-random', 'S²FT-R');
  const lora = named('lora', 'LoRA'),
    full = named('full', 'full FT');
  const out: Finding[] = [];
  if (act && rnd && lora && full) {
    const against = (key: MetricKey) => [lora, full].map((o) => versus(act, o, key));
    const all = [rnd, act, lora, full];
    out.push(
      finding('S²FT (activation, small) generalizes better than LoRA and full FT (shifted accuracy and answer loss)', [
        ...against('shifted'),
        ...against('shiftedLoss'),
      ]),
    );
    out.push(
      finding(
        'S²FT forgets less than LoRA and full FT (change in held-out Moby Dick loss)',
        [lora, full].flatMap((o) => [versus(act, o, 'forgetting'), versus(rnd, o, 'forgetting')]),
      ),
    );
    out.push(
      finding(
        'Activation-based selection (smallest) generalizes better than random (shifted accuracy and answer loss)',
        [versus(act, rnd, 'shifted'), versus(act, rnd, 'shiftedLoss')],
      ),
    );
    out.push({
      claim: 'Context, not a claim of the paper',
      verdict: null,
      detail:
        `In-distribution answer loss: ${all.map((a) => `${a.name} ${formatLoss(a.row.inDistributionLoss)}`).join(', ')}; ` +
        'how far each arm learned the task in the same steps. Shift gap (shifted minus in-distribution answer loss, ' +
        `smaller = what was learned transfers more evenly): ${all.map((a) => `${a.name} ${formatLoss(a.row.shiftGap)}`).join(', ')}.`,
    });
  }
  const fusion = fusionSummaries(r);
  const disjoint = fusion.find((f) => f.kind === 'disjoint'),
    overlapping = fusion.find((f) => f.kind === 'overlapping');
  if (disjoint && overlapping) {
    const sd = side(disjoint.drop, overlapping.drop, true);
    const points = (x: Spread) =>
      x.n > 1
        ? `${(100 * x.mean).toFixed(1)} (${(100 * x.min).toFixed(1)}–${(100 * x.max).toFixed(1)})`
        : (100 * x.mean).toFixed(1);
    out.push(
      finding(
        'Adapters on disjoint selections fuse with less interference than on overlapping ones (accuracy lost by fusing)',
        [
          {
            side: sd,
            text: `Points lost, both groups' rows pooled: disjoint ${points(disjoint.drop)} vs overlapping ${points(overlapping.drop)}: ${WORDS[sd]}`,
          },
        ],
        ` Per group: ${fusion.map((f) => `${f.kind} A ${formatPercent(f.aloneA)} → ${formatPercent(f.fusedA)}, B ${formatPercent(f.aloneB)} → ${formatPercent(f.fusedB)}`).join('; ')}.`,
      ),
    );
  }
  return out;
}
