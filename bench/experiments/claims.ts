/**
 * The paper's generalization, forgetting and fusion claims at small scale, on the embedded model
 * (public/models/moby-llama-800k) and the studio's first-run task, number words to digits
 * (public/datasets/number-words: "seven harpoons =" → " 7"), on the tfjs wasm backend.
 *   splits    train.jsonl holds every pair of the 9 numbers and 36 things. For each number, a
 *             seeded draw (HOLD_OUT_SEED) of HOLD_OUT_PER_NUMBER things is held out: those pairs
 *             are the in-distribution test (number and thing both seen in training, never
 *             together); the remaining pairs are the training split. The shifted test is
 *             test.jsonl: 12 things never named in training, each with three numbers. Every row
 *             is labelled by its answer, the number.
 *   arms      S²FT with a random selection, S²FT with the activation-based selection that picks
 *             the SMALLEST scores (the paper's best for generalization), LoRA at the rank whose
 *             parameter count the S²FT budget matches, and full FT; the same steps, batch, seeds
 *             and batches. Each is scored by exact match of its greedy answer on both test splits
 *             (src/core/train/exactMatch.ts, the Train panel's metric) and the answer tokens'
 *             loss, and by its forgetting: the held-out Moby Dick loss after fine-tuning minus
 *             before (windows of 128, as the model card).
 *   fusion    the numbers split into two groups (FUSION_GROUPS); S²FT adapter A trained on group
 *             A's training rows, adapter B on group B's with (a) a selection disjoint from A's,
 *             (b) the same selection as A's; each pair fused into the base, and each group's
 *             in-distribution accuracy alone vs fused.
 * Steps and learning rates: STEPS_AND_LR_CHOICE says how they were chosen.
 * Writes bench/results/claims.json (claims-quick.json with --quick) and, for a full run, the
 * README block between `<!-- claims:start -->` and `<!-- claims:end -->`.
 *   npx tsx bench/experiments/claims.ts [--quick] [--seeds N] [--steps N]
 *   npx tsx bench/experiments/claims.ts --readme    (only re-renders the README block from claims.json)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Flags } from '../../src/cli/lib/args';
import { evaluationBatches } from '../../src/cli/lib/evaluationBatches';
import { resolveModelDir } from '../../src/cli/lib/modelArg';
import { calibrationBatches, chooseSelection } from '../../src/cli/lib/selectionFlags';
import { TOKENIZER_FILE, loadCheckpoint } from '../../src/core/io/checkpoint';
import { nodeDirectorySource } from '../../src/core/io/nodeFiles';
import { countParameters } from '../../src/core/model/config';
import { loadTokenizer } from '../../src/core/model/tokenizer';
import type { LinearFn, LlamaModel, LlamaWeights } from '../../src/core/model/types';
import { mixSeed, permutation } from '../../src/core/random';
import { DEFAULT_MODULES, unitCounts } from '../../src/core/s2ft/budget';
import { fuseAdapters, releaseReplacedWeights } from '../../src/core/s2ft/fuse';
import type { AdapterBlock, Selection } from '../../src/core/s2ft/types';
import type { Batch } from '../../src/core/train/batch';
import { countTargets } from '../../src/core/train/metrics';
import { BatchStream, chooseSeqLen, shouldPack } from '../../src/core/train/batches';
import { parseDataset, type ParsedDataset, type TokenizedExample } from '../../src/core/train/data';
import { exactMatch } from '../../src/core/train/exactMatch';
import type { MethodName } from '../../src/core/train/method';
import { prepareMethod } from '../../src/core/train/methods';
import type { PreparedS2ft } from '../../src/core/train/s2ft';
import { trainConfig } from '../../src/core/train/config';
import { Trainer } from '../../src/core/train/trainer';
import { initNodeBackend } from '../../src/cli/lib/backend';
import { blockMarkers, replaceMarkedBlock } from '../readme';
import {
  claimsMarkdown,
  pooled,
  rate,
  type ArmId,
  type ArmResult,
  type ClaimsResults,
  type FusionCondition,
  type FusionRun,
  type LabelAccuracy,
} from '../lib/claimsReport';
import { sharedUnits, splitSelection } from '../lib/fusionSelection';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
/** A positive integer flag's value, or the fallback. */
function intFlag(name: string, fallback: number): number {
  const v = argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
  return v;
}
const seedCount = intFlag('--seeds', quick ? 1 : 3);

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');
const DATASET = 'public/datasets/number-words';
const HELD_OUT = path.join(root, 'public/datasets/moby-dick-heldout/moby-dick-heldout.txt');
const HELD_OUT_SEQ_LEN = 128;
const LORA_RANK = 8;
const STEPS = intFlag('--steps', quick ? 10 : 60);
const BATCH = 8;
/** Training things held out per number for the in-distribution test, drawn with this seed. */
const HOLD_OUT_PER_NUMBER = 6;
const HOLD_OUT_SEED = 17;
const FUSION_GROUPS = { a: ['1', '2', '3', '4'], b: ['5', '6', '7', '8', '9'] };
const STEPS_AND_LR_CHOICE =
  'a probe on the training split, seed 0, of 30, 60 and 120 steps at four learning rates per arm, judged by fit only ' +
  '(mean training loss over the last 10 % of steps, and exact match on the training rows; never the test splits). ' +
  "60 is the fewest probed steps at which every arm's best rate answers every training row (at 30, LoRA's best reached " +
  '49.6 %). At 60 steps (loss, training exact match): S²FT-R 3e-2 (1.227, 100 %) over 1e-2 (1.308, 100 %), ' +
  '1e-1 (1.420, 94.4 %), 3e-3 (2.026, 79.3 %); S²FT-A 3e-2 (1.241, 100 %) over 1e-1 (1.261, 100 %), ' +
  '1e-2 (1.444, 99.3 %), 3e-3 (2.315, 10.0 %); LoRA 1e-2 (1.284, 100 %) over 3e-3 (1.806, 56.3 %), ' +
  '3e-2 (1.945, 18.9 %), 1e-1 (2.810, 0 %); full FT 3e-3 (0.001, 100 %) over 1e-3 (0.015, 100 %), ' +
  '1e-2 (0.081, 99.6 %), 3e-4 (1.212, 94.1 %); no wider search';

interface ArmSpec {
  arm: ArmId;
  label: string;
  method: MethodName;
  lr: number;
  /** S²FT: the `train` command's selection flags. */
  selectionFlags?: Record<string, string>;
}

const ARMS: ArmSpec[] = [
  {
    arm: 's2ft-random',
    label: 'S²FT-R (random)',
    method: 's2ft',
    lr: 3e-2,
    selectionFlags: { strategy: 'random', 'match-lora-rank': String(LORA_RANK) },
  },
  {
    arm: 's2ft-activation-small',
    label: 'S²FT-A (activation, small)',
    method: 's2ft',
    lr: 3e-2,
    selectionFlags: { strategy: 'activation', pick: 'small', 'match-lora-rank': String(LORA_RANK) },
  },
  { arm: 'lora', label: `LoRA (rank ${LORA_RANK})`, method: 'lora', lr: 1e-2 },
  { arm: 'full', label: 'full FT', method: 'full', lr: 3e-3 },
];

const settingsFor = (lr: number) => trainConfig({ steps: STEPS, lr, schedule: 'linear', gradClip: 1.0 });

/** One number-words row as the file holds it. */
interface Row {
  prompt: string;
  completion: string;
}

/** The label a row is scored under: its answer, the number ("7"). */
const labelOf = (row: Row) => row.completion.trim();
const labelsOf = (rows: Row[]) => [...new Set(rows.map(labelOf))].sort();

const readRows = (file: string): Row[] =>
  readFileSync(path.join(root, DATASET, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Row);

/** train.jsonl split into training rows and, per number, HOLD_OUT_PER_NUMBER seeded pairs held out. */
function holdOutPairs(rows: Row[]): { train: Row[]; inDistribution: Row[] } {
  const held = new Set<Row>();
  for (const label of labelsOf(rows)) {
    const same = rows.filter((r) => labelOf(r) === label);
    const order = permutation(same.length, mixSeed(HOLD_OUT_SEED, Number(label)));
    for (const i of order.slice(0, HOLD_OUT_PER_NUMBER)) held.add(same[i]);
  }
  return { train: rows.filter((r) => !held.has(r)), inDistribution: rows.filter((r) => held.has(r)) };
}

const log = (line: string) => console.log(line);
const seconds = (since: number) => (performance.now() - since) / 1000;

async function main(): Promise<void> {
  const started = performance.now();
  const backend = await initNodeBackend();
  const dir = resolveModelDir('default');
  const loaded = await loadCheckpoint(await nodeDirectorySource(dir));
  if (!loaded.tokenizerJson) throw new Error(`${dir} has no tokenizer`);
  const tokenizer = loadTokenizer(loaded.tokenizerJson, loaded.tokenizerConfig, `${loaded.name}/${TOKENIZER_FILE}`);
  const base: LlamaModel = { config: loaded.config, weights: loaded.weights };
  const { config } = base;
  const pretrainSteps =
    (JSON.parse(readFileSync(path.join(dir, 'training.json'), 'utf8')) as { recipe?: { steps?: number } }).recipe
      ?.steps ?? null;
  log(
    `${loaded.name} (pretrained ${pretrainSteps} steps) on ${backend}; ${STEPS} steps of batch ${BATCH}, ${seedCount} seed(s)`,
  );

  const rows = { ...holdOutPairs(readRows('train.jsonl')), shifted: readRows('test.jsonl') };
  const labels = labelsOf(rows.train);
  const toDataset = (split: Row[], name: string): ParsedDataset =>
    parseDataset(split.map((r) => JSON.stringify(r)).join('\n'), name, { tokenizer, vocabSize: config.vocabSize });
  const trainAll = toDataset(rows.train, 'train.jsonl');
  const eosTokenId = trainAll.eosTokenId;
  const seqLen = chooseSeqLen(
    { examples: trainAll.examples, pack: shouldPack(trainAll) },
    0,
    config.maxPositionEmbeddings,
  );
  /** A test split's rows tokenized, by label. */
  const byLabel = (split: Row[], name: string) =>
    new Map(
      labelsOf(split).map((l) => [
        l,
        toDataset(
          split.filter((r) => labelOf(r) === l),
          name,
        ).examples,
      ]),
    );
  const testSets = {
    inDistribution: byLabel(rows.inDistribution, 'in-distribution.jsonl'),
    shifted: byLabel(rows.shifted, 'test.jsonl'),
  };
  const heldOutAll = evaluationBatches(
    parseDataset(readFileSync(HELD_OUT, 'utf8'), 'moby-dick-heldout.txt', { tokenizer, vocabSize: config.vocabSize }),
    HELD_OUT_SEQ_LEN,
  );
  /**
   * What every model is scored on by loss: held-out Moby Dick windows, and each test row at its own length (answer
   * tokens only).
   */
  const lossSets: LossSets = {
    heldOut: quick ? heldOutAll.slice(0, 8) : heldOutAll,
    test: evaluationBatches(toDataset(rows.inDistribution, 'in-distribution.jsonl'), undefined),
    shifted: evaluationBatches(toDataset(rows.shifted, 'test.jsonl'), undefined),
  };
  const heldOutTokens = lossSets.heldOut.reduce((n, b) => n + countTargets(b), 0);

  /** Exact-match counts per label of the greedy answers of a model (and linear override). */
  async function accuracy(
    weights: LlamaWeights,
    split: Map<string, TokenizedExample[]>,
    linear?: LinearFn,
  ): Promise<LabelAccuracy> {
    const acc: LabelAccuracy = {};
    for (const [label, examples] of split)
      acc[label] = await exactMatch({ config, weights }, examples, { linear, eosTokenId });
    return acc;
  }
  const pct = (a: LabelAccuracy) => `${(100 * rate(pooled(a))).toFixed(1)} %`;

  /** A method prepared on the base and trained on `data` with `seed`: the same batches for every arm of a seed. */
  async function train(
    method: MethodName,
    lr: number,
    data: ParsedDataset,
    seed: number,
    selection: (stream: BatchStream) => Promise<Selection | undefined>,
  ) {
    const stream = new BatchStream(
      { examples: data.examples, eosTokenId: data.eosTokenId },
      { batchSize: BATCH, seqLen, seed, pack: false, shuffle: true },
    );
    const prepared = prepareMethod(method, base, {
      selection: await selection(stream),
      lora: { rank: LORA_RANK, seed },
    });
    const trainer = new Trainer(prepared, config, stream, settingsFor(lr), [], { profileMemory: 'never' });
    const before = await lossesBefore(method, trainer, lossSets);
    const t0 = performance.now();
    const result = await trainer.run();
    const tail = result.history.slice(-Math.max(1, Math.round(STEPS / 10)));
    return {
      prepared,
      trainer,
      before,
      trainSeconds: seconds(t0),
      finalTrainLoss: tail.reduce((s, m) => s + m.loss, 0) / tail.length,
    };
  }

  const baseInDist = await accuracy(base.weights, testSets.inDistribution);
  const baseShifted = await accuracy(base.weights, testSets.shifted);
  log(`base model: in-distribution ${pct(baseInDist)}, shifted ${pct(baseShifted)}`);

  const counts = unitCounts(config, { kind: 'loraRank', rank: LORA_RANK }, 'uniform', DEFAULT_MODULES);
  const seeds = Array.from({ length: seedCount }, (_, i) => i);
  const arms: ArmResult[] = ARMS.map((a) => ({
    arm: a.arm,
    label: a.label,
    method: a.method,
    trainableParams: 0,
    lr: a.lr,
    runs: [],
  }));
  for (const seed of seeds) {
    for (const [i, spec] of ARMS.entries()) {
      const t0 = performance.now();
      const run = await train(spec.method, spec.lr, trainAll, seed, async (stream) =>
        spec.selectionFlags
          ? (await chooseSelection(flagsOf(spec.selectionFlags), seed, base, () => calibrationBatches(stream)))
              .selection
          : undefined,
      );
      const after = await losses(run.trainer, lossSets);
      const { weights, linear } = run.prepared;
      const inDistribution = await accuracy(weights, testSets.inDistribution, linear);
      const shifted = await accuracy(weights, testSets.shifted, linear);
      arms[i].trainableParams = run.prepared.stats().trainableParams;
      arms[i].runs.push({
        seed,
        inDistribution,
        shifted,
        inDistributionLoss: after.test,
        shiftedLoss: after.shifted,
        heldOutLoss: after.heldOut,
        forgetting: after.heldOut - run.before.heldOut,
        finalTrainLoss: run.finalTrainLoss,
        trainSeconds: run.trainSeconds,
      });
      log(
        `seed ${seed} ${spec.label}: ${arms[i].trainableParams} trainable, final train loss ${run.finalTrainLoss.toFixed(4)}, ` +
          `in-distribution ${pct(inDistribution)} (answer loss ${run.before.test.toFixed(3)} → ${after.test.toFixed(3)}), ` +
          `shifted ${pct(shifted)} (${run.before.shifted.toFixed(3)} → ${after.shifted.toFixed(3)}), ` +
          `held-out ${run.before.heldOut.toFixed(4)} → ${after.heldOut.toFixed(4)} ` +
          `(train ${run.trainSeconds.toFixed(0)} s, all ${seconds(t0).toFixed(0)} s)`,
      );
      run.trainer.dispose();
      run.prepared.dispose();
    }
  }

  const fusion: FusionRun[] = [];
  for (const seed of seeds) fusion.push(await fusionRun(seed));

  /** Adapters A (group A) and B (group B, disjoint or the same selection), alone and fused. */
  async function fusionRun(seed: number): Promise<FusionRun> {
    const t0 = performance.now();
    const twice = await chooseSelection(
      flagsOf({
        strategy: 'random',
        'heads-per-layer': String(2 * counts.heads),
        'channels-per-layer': String(2 * counts.channels),
      }),
      seed,
      base,
      () => [],
    );
    const [selA, selOther] = splitSelection(twice.selection);
    const trainOf = (group: string[]) =>
      toDataset(
        rows.train.filter((r) => group.includes(labelOf(r))),
        'train.jsonl',
      );
    const testOf = (group: string[]) =>
      new Map([...testSets.inDistribution].filter(([label]) => group.includes(label)));
    const adapter = async (data: ParsedDataset, selection: Selection): Promise<AdapterBlock[]> => {
      const run = await train('s2ft', ARMS[0].lr, data, seed, async () => selection);
      const blocks = await (run.prepared as PreparedS2ft).blocks();
      run.trainer.dispose();
      run.prepared.dispose();
      return blocks;
    };
    /** Accuracy on a group's rows of the base with the given adapters fused in (weight 1 each). */
    const fusedAccuracy = async (adapters: AdapterBlock[][], group: string[]) => {
      const fused = fuseAdapters(
        base.weights,
        adapters.map((blocks) => ({ adapter: { blocks }, weight: 1 })),
      );
      try {
        return pooled(await accuracy(fused, testOf(group)));
      } finally {
        releaseReplacedWeights(fused, base.weights); // frees the fused copies, never the base
      }
    };
    const a = await adapter(trainOf(FUSION_GROUPS.a), selA);
    const aloneA = await fusedAccuracy([a], FUSION_GROUPS.a);
    const conditions: FusionCondition[] = [];
    for (const [kind, selB] of [
      ['disjoint', selOther],
      ['overlapping', selA],
    ] as const) {
      const b = await adapter(trainOf(FUSION_GROUPS.b), selB);
      conditions.push({
        kind,
        sharedUnits: sharedUnits(selA, selB),
        aloneA,
        aloneB: await fusedAccuracy([b], FUSION_GROUPS.b),
        fusedA: await fusedAccuracy([a, b], FUSION_GROUPS.a),
        fusedB: await fusedAccuracy([a, b], FUSION_GROUPS.b),
      });
    }
    for (const c of conditions) {
      log(
        `seed ${seed} fusion, ${c.kind} (${c.sharedUnits} shared units): group A ${(100 * rate(c.aloneA)).toFixed(1)} % → ` +
          `${(100 * rate(c.fusedA)).toFixed(1)} %, group B ${(100 * rate(c.aloneB)).toFixed(1)} % → ${(100 * rate(c.fusedB)).toFixed(1)} %`,
      );
    }
    log(`seed ${seed} fusion: ${seconds(t0).toFixed(0)} s`);
    return { seed, conditions };
  }

  const results: ClaimsResults = {
    name: quick ? 'claims-quick' : 'claims',
    quick,
    machine: {
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      node: process.versions.node,
      browser: null,
      backend,
      date: new Date().toISOString(),
    },
    model: { name: loaded.name, fingerprint: loaded.fingerprint, parameters: countParameters(config), pretrainSteps },
    settings: {
      steps: STEPS,
      batchSize: BATCH,
      seqLen,
      loraRank: LORA_RANK,
      optimizer: 'AdamW (β 0.9/0.95)',
      schedule: 'linear',
      warmup: 0,
      gradClip: 1.0,
      lrChoice: STEPS_AND_LR_CHOICE,
      seeds,
      dataset: DATASET,
      splits: {
        train: { rows: rows.train.length, what: 'train.jsonl less the in-distribution pairs' },
        inDistribution: {
          rows: rows.inDistribution.length,
          what:
            `train.jsonl pairs held out, ${HOLD_OUT_PER_NUMBER} per number drawn with seed ${HOLD_OUT_SEED}: ` +
            'number and thing both seen in training, never together',
        },
        shifted: { rows: rows.shifted.length, what: 'test.jsonl, things never named in training' },
      },
      s2ftUnitsPerLayer: { heads: counts.heads, channels: counts.channels },
      heldOutSeqLen: HELD_OUT_SEQ_LEN,
      heldOutTokens,
      labels,
      fusionGroups: FUSION_GROUPS,
    },
    base: { inDistribution: baseInDist, shifted: baseShifted, ...baseLosses() },
    arms,
    fusion,
    seconds: seconds(started),
  };
  const out = resultsPath(results.name);
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  log('');
  log(claimsMarkdown(results));
  log(`wrote ${path.relative(root, out)} (${(results.seconds / 60).toFixed(1)} min)`);
  if (!quick) writeReadmeBlock(results);
}

const resultsPath = (name: string) => path.join(here, '..', 'results', `${name}.json`);

/** README.md's claims block, right after the benchmark block the first time. */
function writeReadmeBlock(results: ClaimsResults): void {
  const readme = path.join(root, 'README.md');
  writeFileSync(
    readme,
    replaceMarkedBlock(readFileSync(readme, 'utf8'), 'claims', claimsMarkdown(results), blockMarkers('bench').end),
  );
  log('README.md: claims block regenerated');
}

/** The `train` command's flags, so the selection is built exactly as `train --strategy …` builds it. */
function flagsOf(values: Record<string, string>): Flags {
  return new Flags(new Map(Object.entries(values).map(([k, v]) => [k, [v]])));
}

/** Loss batches: held-out text windows, and the two test splits one row per batch. */
interface LossSets {
  heldOut: Batch[];
  test: Batch[];
  shifted: Batch[];
}
interface Losses {
  heldOut: number;
  test: number;
  shifted: number;
}

async function losses(trainer: Trainer, sets: LossSets): Promise<Losses> {
  return {
    heldOut: (await trainer.evaluate(sets.heldOut)).loss,
    test: (await trainer.evaluate(sets.test)).loss,
    shifted: (await trainer.evaluate(sets.shifted)).loss,
  };
}

/**
 * The losses before training, once per method: an untrained S²FT (zero deltas) or LoRA (B = 0)
 * and full FT's copy all compute the base model, whatever the seed or selection.
 */
const before = new Map<MethodName, Losses>();
async function lossesBefore(method: MethodName, trainer: Trainer, sets: LossSets): Promise<Losses> {
  let l = before.get(method);
  if (l === undefined) {
    l = await losses(trainer, sets);
    before.set(method, l);
    log(
      `${method} before training: held-out ${l.heldOut.toFixed(4)}, answer loss test ${l.test.toFixed(4)}, shifted ${l.shifted.toFixed(4)}`,
    );
  }
  return l;
}

/** The base model's losses (as S²FT measured them before training). */
function baseLosses(): { inDistributionLoss: number; shiftedLoss: number; heldOutLoss: number } {
  const l = before.get('s2ft');
  if (!l) throw new Error('no S²FT run measured the base model');
  return { inDistributionLoss: l.test, shiftedLoss: l.shifted, heldOutLoss: l.heldOut };
}

if (argv.includes('--readme'))
  writeReadmeBlock(JSON.parse(readFileSync(resultsPath('claims'), 'utf8')) as ClaimsResults);
else await main();
