/**
 * The paper's generalization, forgetting and fusion claims at small scale, on the embedded model
 * (public/models/moby-llama-800k) and its datasets, on the tfjs wasm backend:
 *   arms      S²FT with a random selection, S²FT with the activation-based selection that picks
 *             the SMALLEST scores (the paper's best for generalization), LoRA at the rank whose
 *             parameter count the S²FT budget matches, and full FT; the same steps, batch, seeds
 *             and batches. Each is scored by exact match of its greedy answer on test.jsonl
 *             (in-distribution) and test-shifted.jsonl, and by its forgetting: the held-out Moby
 *             Dick loss after fine-tuning minus before (windows of 128, as the model card).
 *   fusion    the training tasks split into two groups; S²FT adapter A on group A, adapter B on
 *             group B with (a) a selection disjoint from A's, (b) the same selection as A's; each
 *             pair fused into the base, and each group's accuracy alone vs fused.
 * Writes bench/results/claims.json (claims-quick.json with --quick) and, for a full run, the
 * README block between `<!-- claims:start -->` and `<!-- claims:end -->`.
 *   npx tsx bench/experiments/claims.ts [--quick] [--seeds N] [--steps N]
 *   npx tsx bench/experiments/claims.ts --readme    (only re-renders the README block from claims.json)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Flags } from '../../src/cli/args';
import { evaluationBatches } from '../../src/cli/commands/eval';
import { resolveModelDir } from '../../src/cli/modelArg';
import { calibrationBatches, chooseSelection } from '../../src/cli/selectionFlags';
import { TOKENIZER_FILE, loadCheckpoint } from '../../src/core/io/checkpoint';
import { nodeDirectorySource } from '../../src/core/io/nodeFiles';
import { countParameters } from '../../src/core/model/config';
import { generate } from '../../src/core/model/generate';
import { loadTokenizer } from '../../src/core/model/tokenizer';
import type { LinearFn, LlamaModel, LlamaWeights } from '../../src/core/model/types';
import { DEFAULT_MODULES, unitCounts } from '../../src/core/s2ft/budget';
import { fuseAdapters, releaseReplacedWeights } from '../../src/core/s2ft/fuse';
import type { AdapterBlock, Selection } from '../../src/core/s2ft/types';
import type { Batch } from '../../src/core/train/batch';
import { countTargets } from '../../src/core/train/metrics';
import { BatchStream, chooseSeqLen, shouldPack } from '../../src/core/train/batches';
import { parseDataset, renderInstructionPrompt, type ParsedDataset } from '../../src/core/train/data';
import type { MethodName } from '../../src/core/train/method';
import { prepareMethod } from '../../src/core/train/methods';
import type { PreparedS2ft } from '../../src/core/train/s2ft';
import { trainConfig } from '../../src/core/train/config';
import { Trainer } from '../../src/core/train/trainer';
import { initNodeBackend } from '../../src/cli/backend';
import { blockMarkers, replaceMarkedBlock } from '../readme';
import {
  claimsMarkdown,
  isExactMatch,
  pooled,
  rate,
  tally,
  type ArmId,
  type ArmResult,
  type ClaimsResults,
  type FusionCondition,
  type FusionRun,
  type TaskAccuracy,
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
const seedCount = intFlag('--seeds', quick ? 1 : 2);

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');
const TOY = path.join(root, 'public/datasets/toy-tasks');
const HELD_OUT = path.join(root, 'public/datasets/moby-dick-heldout/moby-dick-heldout.txt');
const HELD_OUT_SEQ_LEN = 128;
const LORA_RANK = 8;
const STEPS = intFlag('--steps', quick ? 10 : 150);
const BATCH = 8;
/** Test rows per task and split (null: all 50). */
const TEST_ROWS_PER_TASK = quick ? 4 : null;
const FUSION_GROUPS = { a: ['add', 'larger'], b: ['reverse', 'count', 'capitals'] };
const LR_CHOICE =
  'picked from two values each by mean training loss over steps 101–150 in a short probe on the previous ' +
  '1000-step checkpoint, seed 0: S²FT 1e-2 (3.11, in a 300-step run) over 3e-2 (3.28), LoRA 1e-2 (3.04) over 3e-2 (4.81), ' +
  'full FT 1e-3 (2.07) over 3e-3 (2.19); no wider search';

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
    lr: 1e-2,
    selectionFlags: { strategy: 'random', 'match-lora-rank': String(LORA_RANK) },
  },
  {
    arm: 's2ft-activation-small',
    label: 'S²FT-A (activation, small)',
    method: 's2ft',
    lr: 1e-2,
    selectionFlags: { strategy: 'activation', pick: 'small', 'match-lora-rank': String(LORA_RANK) },
  },
  { arm: 'lora', label: `LoRA (rank ${LORA_RANK})`, method: 'lora', lr: 1e-2 },
  { arm: 'full', label: 'full FT', method: 'full', lr: 1e-3 },
];

const settingsFor = (lr: number) => trainConfig({ steps: STEPS, lr, schedule: 'linear', gradClip: 1.0 });

/** One toy-task row as the file holds it. */
interface TaskRow {
  instruction: string;
  input?: string;
  output: string;
  task: string;
}

const readRows = (file: string): TaskRow[] =>
  readFileSync(path.join(TOY, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as TaskRow);

function firstPerTask(rows: TaskRow[], n: number | null): TaskRow[] {
  if (n === null) return rows;
  const seen: Record<string, number> = {};
  return rows.filter((r) => (seen[r.task] = (seen[r.task] ?? 0) + 1) <= n);
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

  const trainRows = readRows('train.jsonl');
  const tasks = [...new Set(trainRows.map((r) => r.task))];
  const toDataset = (rows: TaskRow[], name = 'train.jsonl'): ParsedDataset =>
    parseDataset(rows.map((r) => JSON.stringify(r)).join('\n'), name, { tokenizer, vocabSize: config.vocabSize });
  const trainAll = toDataset(trainRows);
  const seqLen = chooseSeqLen(
    { examples: trainAll.examples, pack: shouldPack(trainAll) },
    0,
    config.maxPositionEmbeddings,
  );
  const testRows = firstPerTask(readRows('test.jsonl'), TEST_ROWS_PER_TASK);
  const shiftedRows = firstPerTask(readRows('test-shifted.jsonl'), TEST_ROWS_PER_TASK);
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
    test: evaluationBatches(toDataset(testRows, 'test.jsonl'), undefined),
    shifted: evaluationBatches(toDataset(shiftedRows, 'test-shifted.jsonl'), undefined),
  };
  const heldOutTokens = lossSets.heldOut.reduce((n, b) => n + countTargets(b), 0);

  // Prompt ids and a length cap per row, tokenized once: the answer's tokens, its end-of-sequence and slack.
  const promptCache = new Map<TaskRow, { ids: number[]; max: number }>();
  const promptOf = (row: TaskRow) => {
    let p = promptCache.get(row);
    if (!p) {
      p = {
        ids: tokenizer.encode(renderInstructionPrompt(row.instruction, row.input), { addSpecialTokens: true }),
        max: tokenizer.encode(row.output, { addSpecialTokens: false }).length + 3,
      };
      promptCache.set(row, p);
    }
    return p;
  };
  /** Exact-match counts per task of the greedy answers of a model (and linear override). */
  async function accuracy(weights: LlamaWeights, rows: TaskRow[], linear?: LinearFn): Promise<TaskAccuracy> {
    const acc: TaskAccuracy = {};
    for (const row of rows) {
      const { ids, max } = promptOf(row);
      const out = await generate({ config, weights }, ids, { maxNewTokens: max, linear });
      tally(acc, row.task, isExactMatch(tokenizer.decode(out.ids, { skipSpecialTokens: true }), row.output));
    }
    return acc;
  }
  const pct = (a: TaskAccuracy) => `${(100 * rate(pooled(a))).toFixed(1)} %`;

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

  const baseInDist = await accuracy(base.weights, testRows);
  const baseShifted = await accuracy(base.weights, shiftedRows);
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
      const inDistribution = await accuracy(weights, testRows, linear);
      const shifted = await accuracy(weights, shiftedRows, linear);
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
    const group = (names: string[]) => trainRows.filter((r) => names.includes(r.task));
    const dataA = toDataset(group(FUSION_GROUPS.a)),
      dataB = toDataset(group(FUSION_GROUPS.b));
    const testA = testRows.filter((r) => FUSION_GROUPS.a.includes(r.task));
    const testB = testRows.filter((r) => FUSION_GROUPS.b.includes(r.task));
    const adapter = async (data: ParsedDataset, selection: Selection): Promise<AdapterBlock[]> => {
      const run = await train('s2ft', ARMS[0].lr, data, seed, async () => selection);
      const blocks = await (run.prepared as PreparedS2ft).blocks();
      run.trainer.dispose();
      run.prepared.dispose();
      return blocks;
    };
    /** Accuracy on `rows` of the base with the given adapters fused in (weight 1 each). */
    const fusedAccuracy = async (adapters: AdapterBlock[][], rows: TaskRow[]) => {
      const fused = fuseAdapters(
        base.weights,
        adapters.map((blocks) => ({ adapter: { blocks }, weight: 1 })),
      );
      try {
        return pooled(await accuracy(fused, rows));
      } finally {
        releaseReplacedWeights(fused, base.weights); // frees the fused copies, never the base
      }
    };
    const a = await adapter(dataA, selA);
    const aloneA = await fusedAccuracy([a], testA);
    const conditions: FusionCondition[] = [];
    for (const [kind, selB] of [
      ['disjoint', selOther],
      ['overlapping', selA],
    ] as const) {
      const b = await adapter(dataB, selB);
      conditions.push({
        kind,
        sharedUnits: sharedUnits(selA, selB),
        aloneA,
        aloneB: await fusedAccuracy([b], testB),
        fusedA: await fusedAccuracy([a, b], testA),
        fusedB: await fusedAccuracy([a, b], testB),
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
      lrChoice: LR_CHOICE,
      seeds,
      testRowsPerTask: TEST_ROWS_PER_TASK,
      s2ftUnitsPerLayer: { heads: counts.heads, channels: counts.channels },
      heldOutSeqLen: HELD_OUT_SEQ_LEN,
      heldOutTokens,
      tasks,
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
