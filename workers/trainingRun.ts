/**
 * One fine-tuning run as the Train panel sees it: phases, a point per step, evaluations with the
 * forgetting meter, sample generations from fixed prompts (step 0 included), pause / resume /
 * stop between steps, resumable checkpoints every N steps, and a divergence that ends the run
 * with the last good state kept. The core Trainer does the arithmetic (one readback per step);
 * this adds what a person watching needs.
 */
import { isUserError } from '../src/core/errors';
import { generate } from '../src/core/model/generate';
import type { TextTokenizer } from '../src/core/model/tokenizer';
import type { Selection } from '../src/core/s2ft/types';
import type { Batch } from '../src/core/train/batch';
import { BatchStream, makeBatches, type BatchOptions } from '../src/core/train/batches';
import type { TokenizedExample } from '../src/core/train/data';
import { exactMatch } from '../src/core/train/exactMatch';
import { prepareMethod, type AnyPreparedMethod } from '../src/core/train/methods';
import type { StepMetrics } from '../src/core/train/metrics';
import { checkpointInterval } from '../src/core/train/config';
import { loraOptions } from '../src/core/train/lora';
import { Trainer } from '../src/core/train/trainer';
import type { LlamaModel } from '../src/core/model/types';
import type {
  EvalPoint,
  RunSummary,
  SampleGeneration,
  StepPoint,
  TrainErrorInfo,
  TrainEvent,
  TrainPhase,
  TrainRequest,
} from './api';
import type { CheckpointRecord, CheckpointStore, RunProvenance } from './checkpoints';
import { deviceMemory } from './deviceMemory';

/** Evaluation and the forgetting meter use at most this many batches (they run every evalEvery steps). */
export const MAX_EVAL_BATCHES = 8;
/** Exact match scores at most this many validation rows (one forward pass of rows). */
export const MAX_EXACT_MATCH_ROWS = 64;

export interface RunInputs {
  runId: string;
  name: string;
  /** The request with seqLen resolved (> 0) and the warm-up below the step count. */
  config: TrainRequest;
  model: LlamaModel;
  modelName: string;
  tokenizer: TextTokenizer | null;
  selection: Selection | null;
  data: {
    name: string;
    train: TokenizedExample[];
    validation: TokenizedExample[];
    eosTokenId: number | null;
    packed: boolean;
  };
  /** Held-out pretraining text (already tokenized) for the forgetting meter. */
  heldout: TokenizedExample[] | null;
  /** Where checkpoints go; null = never saved. */
  store: CheckpointStore | null;
  /** What its checkpoints record that the run does not use (the session knows the sources). */
  provenance: RunProvenance;
  /** Continue from this checkpoint instead of starting at step 0. */
  resumeFrom?: CheckpointRecord;
}

export interface RunOutcome {
  summary: RunSummary;
  /** The trained state (kept after stop and after a divergence); the caller disposes it. */
  prepared: AnyPreparedMethod;
}

export class TrainingRun {
  private stopRequested = false;
  private pauseRequested = false;
  private release: (() => void) | null = null;
  private pausedWaiters: (() => void)[] = [];
  private paused = false;

  constructor(private readonly inputs: RunInputs) {}

  /** Resolves once the run holds between steps (or has ended). */
  pause(): Promise<void> {
    if (this.paused) return Promise.resolve();
    this.pauseRequested = true;
    return new Promise((resolve) => this.pausedWaiters.push(resolve));
  }

  resume(): void {
    this.pauseRequested = false;
    this.release?.();
  }

  /** Ends the run after the current step; a paused run ends at once. */
  stop(): void {
    this.stopRequested = true;
    this.resume();
  }

  async run(onEvent: (event: TrainEvent) => void): Promise<RunOutcome> {
    const { runId, config, model, selection, resumeFrom } = this.inputs;
    const phase = (p: TrainPhase, message: string, error?: TrainErrorInfo) =>
      onEvent({ kind: 'phase', runId, phase: p, message, ...(error ? { error } : {}) });
    phase(
      'loading',
      resumeFrom ? `resuming from step ${resumeFrom.state.step}` : 'preparing the method and the batches',
    );

    const prepared = prepareMethod(config.method, model, {
      selection: selection ?? undefined,
      lora: loraOptions(config),
    });
    const history = {
      steps: [...(resumeFrom?.summary.history.steps ?? [])],
      evals: [...(resumeFrom?.summary.history.evals ?? [])],
    };
    let trainer: Trainer | null = null;
    let error: TrainErrorInfo | undefined;
    try {
      const batchOptions: BatchOptions = {
        batchSize: config.batchSize / config.gradAccum,
        seqLen: config.seqLen,
        seed: config.seed,
        pack: this.inputs.data.packed,
        shuffle: true,
      };
      const feed = new BatchStream(
        { examples: this.inputs.data.train, eosTokenId: this.inputs.data.eosTokenId },
        batchOptions,
      );
      const evalBatches = (examples: TokenizedExample[] | null, pack: boolean): Batch[] =>
        examples && examples.length > 0
          ? makeBatches(
              { examples, eosTokenId: this.inputs.data.eosTokenId },
              { ...batchOptions, pack, shuffle: false },
            ).slice(0, MAX_EVAL_BATCHES)
          : [];
      const validation = evalBatches(this.inputs.data.validation, this.inputs.data.packed);
      const heldout = evalBatches(this.inputs.heldout, true);
      // No validation batches for the trainer: the run evaluates itself (validation and held-out together).
      trainer = new Trainer(prepared, model.config, feed, config);
      const t = trainer;

      let baseline = resumeFrom?.baselineHeldoutLoss ?? null;
      const evaluate = async (step: number): Promise<void> => {
        const evalLoss = validation.length > 0 ? (await t.evaluate(validation)).loss : null;
        const heldoutLoss = heldout.length > 0 ? (await t.evaluate(heldout)).loss : null;
        if (step === 0) baseline = heldoutLoss;
        const rows = this.inputs.data.validation.slice(0, MAX_EXACT_MATCH_ROWS);
        const exact =
          !this.inputs.data.packed && rows.length > 0
            ? await exactMatch({ config: model.config, weights: prepared.weights }, rows, {
                linear: prepared.linear,
                eosTokenId: this.inputs.data.eosTokenId,
                // The validation loss's shape: its GPU kernels are compiled already.
                batchSize: config.batchSize,
                seqLen: config.seqLen,
              })
            : null;
        const point: EvalPoint = {
          step,
          evalLoss,
          heldoutLoss,
          forgetting: heldoutLoss !== null && baseline !== null ? heldoutLoss - baseline : null,
          exactMatch: exact !== null && exact.total > 0 ? exact : null,
        };
        history.evals.push(point);
        onEvent({ kind: 'eval', runId, point });
      };
      const samples = async (step: number): Promise<void> => {
        const generations = await this.sample(prepared);
        if (generations.length > 0) onEvent({ kind: 'samples', runId, step, samples: generations });
      };

      if (resumeFrom) {
        t.loadState(resumeFrom.state);
      } else {
        await evaluate(0);
        if (config.sampleEvery > 0) await samples(0);
      }

      phase('compiling', 'compiling kernels (the first step is slow)');
      let first = true;
      const stepMs: number[] = history.steps.map((p) => p.stepMs);
      const result = await t.run({
        onStep: async (m) => {
          if (first) {
            first = false;
            phase('training', 'training');
          }
          stepMs.push(m.stepMs);
          const point = stepPoint(m, config.steps, median(stepMs));
          history.steps.push(point);
          onEvent({ kind: 'step', runId, point });
          const atEnd = m.step === config.steps;
          if ((config.evalEvery > 0 && m.step % config.evalEvery === 0) || atEnd) await evaluate(m.step);
          if (config.sampleEvery > 0 && (m.step % config.sampleEvery === 0 || atEnd)) await samples(m.step);
          if (this.inputs.store && m.step % checkpointInterval(config) === 0 && !atEnd) {
            const record = checkpointRecord(this.inputs, await t.state(), history, baseline);
            await this.inputs.store.put(record);
            onEvent({ kind: 'checkpoint', runId, step: m.step, bytes: checkpointBytes(record) });
          }
          if (this.pauseRequested && !this.stopRequested && !atEnd) await this.holdPaused(phase);
        },
        shouldStop: () => this.stopRequested,
      });
      if (result.stopped) {
        if (!history.evals.some((e) => e.step === t.stepsDone)) await evaluate(t.stepsDone);
        phase('stopped', `stopped after step ${t.stepsDone}; the trained state is kept`);
      } else {
        await this.inputs.store?.delete(runId);
        phase('done', `finished ${t.stepsDone} steps`);
      }
    } catch (e) {
      if (!isUserError(e)) {
        prepared.dispose();
        trainer?.dispose();
        throw e;
      }
      error = { code: e.code, message: e.message };
      phase('error', e.message, error);
    } finally {
      this.notifyPaused();
    }
    const stepsDone = trainer?.stepsDone ?? 0;
    trainer?.dispose();
    return { summary: this.summarize(history, prepared, stepsDone, error), prepared };
  }

  private async holdPaused(phase: (p: TrainPhase, message: string) => void): Promise<void> {
    const held = new Promise<void>((resolve) => {
      this.release = resolve;
    });
    this.paused = true;
    phase('paused', 'paused');
    this.notifyPaused();
    await held;
    this.paused = false;
    this.release = null;
    if (!this.stopRequested) phase('training', 'training');
  }

  private notifyPaused(): void {
    const waiters = this.pausedWaiters;
    this.pausedWaiters = [];
    waiters.forEach((w) => w());
  }

  /** Greedy continuations of the fixed prompts with the current trained state. */
  private async sample(prepared: AnyPreparedMethod): Promise<SampleGeneration[]> {
    const { tokenizer, config, model } = this.inputs;
    if (!tokenizer) return [];
    const out: SampleGeneration[] = [];
    for (const prompt of config.samplePrompts) {
      const ids = tokenizer.encode(prompt, { addSpecialTokens: true });
      if (ids.length === 0) continue;
      const result = await generate({ config: model.config, weights: prepared.weights }, ids, {
        maxNewTokens: config.sampleTokens,
        temperature: 0,
        linear: prepared.linear,
      });
      out.push({ prompt, text: tokenizer.decode(result.ids, { skipSpecialTokens: true }) });
    }
    return out;
  }

  private summarize(
    history: { steps: StepPoint[]; evals: EvalPoint[] },
    prepared: AnyPreparedMethod,
    stepsDone: number,
    error?: TrainErrorInfo,
  ): RunSummary {
    const { runId, name, config, selection, modelName, data } = this.inputs;
    const lastEval = history.evals[history.evals.length - 1];
    const lastForgetting = [...history.evals].reverse().find((e) => e.forgetting !== null);
    return {
      runId,
      name,
      status: error ? 'error' : this.stopRequested ? 'stopped' : 'done',
      ...(error ? { error } : {}),
      method: config.method,
      settings: config,
      selection: config.method === 's2ft' ? selection : null,
      modelName,
      dataName: data.name,
      stepsDone,
      finalLoss: history.steps[history.steps.length - 1]?.loss ?? null,
      finalEvalLoss: lastEval?.evalLoss ?? null,
      forgettingDelta: lastForgetting?.forgetting ?? null,
      medianStepMs: history.steps.length > 0 ? median(history.steps.map((p) => p.stepMs)) : null,
      peakBytes: history.steps.reduce<number | null>(
        (m, p) => (p.peakBytes === null ? m : Math.max(m ?? 0, p.peakBytes)),
        null,
      ),
      trainableParams: prepared.stats().trainableParams,
      adapterId: null,
    };
  }
}

function stepPoint(m: StepMetrics, steps: number, medianMs: number): StepPoint {
  const memory = deviceMemory();
  return {
    step: m.step,
    steps,
    loss: m.loss,
    lr: m.lr,
    gradNorm: m.gradNorm,
    tokensPerSec: m.tokensPerSec,
    stepMs: m.stepMs,
    elapsedMs: m.elapsedMs,
    etaMs: Math.max(0, steps - m.step) * medianMs,
    bytesInUse: memory.numBytes,
    bytesAllocated: memory.bytesAllocated,
    numTensors: memory.numTensors,
    peakBytes: m.peakBytes,
  };
}

export function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Bytes of the state's arrays (what a checkpoint costs in IndexedDB, roughly). */
function checkpointBytes(record: CheckpointRecord): number {
  const arrays = [...record.state.trainable, ...Object.values(record.state.optimizer.buffers).flat()];
  return arrays.reduce((n, a) => n + a.byteLength, 0);
}

/** The record a run saves at a step: its state and metrics so far, with where they came from. */
function checkpointRecord(
  run: RunInputs,
  state: CheckpointRecord['state'],
  history: { steps: StepPoint[]; evals: EvalPoint[] },
  baselineHeldoutLoss: number | null,
): CheckpointRecord {
  const { config, model, data } = run.provenance;
  return {
    summary: {
      runId: run.runId,
      name: run.name,
      method: config.method,
      step: state.step,
      steps: config.steps,
      savedAt: Date.now(),
      modelName: run.modelName,
      modelFingerprint: model.fingerprint,
      modelSource: model.source,
      dataName: run.data.name,
      history: { steps: [...history.steps], evals: [...history.evals] },
    },
    config,
    selection: run.selection,
    data,
    baselineHeldoutLoss,
    state,
  };
}
