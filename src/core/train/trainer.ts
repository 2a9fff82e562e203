/**
 * One trainer for every fine-tuning method (S²FT, LoRA, full FT): it only sees a PreparedMethod's
 * trainable variables, weights and linear override.
 *
 * One update (`step()`):
 *   1. take `accumulation` micro-batches; the loss is the mean next-token cross-entropy over ALL
 *      counted positions of the effective batch, so micro-batch i (n_i counted positions, mean
 *      loss L_i) contributes (n_i / N) · L_i and its gradient is weighted the same way: two
 *      micro-batches of B/2 give exactly the gradient of one batch of B;
 *   2. gradients with tf.variableGrads, only for the trainable variables;
 *   3. one readback per update: loss and global gradient norm together;
 *   4. NaN/Inf → UserError('training-diverged') before anything is applied;
 *   5. clip by global norm (as torch.nn.utils.clip_grad_norm_), then the optimizer update at the
 *      scheduled learning rate.
 * The settings are a TrainConfig (config.ts); the feed yields micro-batches of batchSize / gradAccum rows.
 * The first update (or every one, with profileMemory 'every') runs under measurePeakBytes (memory.ts) to measure the
 * peak tensor bytes of a step.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../model/types';
import type { Batch } from './batch';
import type { DataPosition } from './batches';
import { checkTrainConfig, optimizerSettings, type TrainConfig } from './config';
import { checkFinite } from './guards';
import { causalLmLoss } from './loss';
import type { PreparedMethod } from './method';
import { countTargets, type EvalMetrics, type StepMetrics } from './metrics';
import { createOptimizer, type Optimizer, type OptimizerState } from './optimizer';
import { measurePeakBytes } from './memory';
import { learningRate } from './schedule';

export interface TrainerOptions {
  /**
   * Measure the peak tensor bytes (distinct buffers, memory.ts) of the first update only (default), of every
   * update, or never (profiling records every kernel, which costs time on a GPU backend).
   */
  profileMemory?: 'first' | 'every' | 'never';
}

/** Where training batches come from (a BatchStream; position/seek make a run resumable). */
export interface BatchFeed {
  next(): Batch;
  position?(): DataPosition;
  seek?(position: DataPosition): void;
}

/** Everything needed to resume a run exactly. */
export interface TrainerState {
  step: number;
  trainable: Float32Array[];
  optimizer: OptimizerState;
  data: DataPosition | null;
}

export interface TrainHooks {
  onStep?(metrics: StepMetrics): void | Promise<void>;
  onEval?(metrics: EvalMetrics): void | Promise<void>;
  /** Checked between updates; true ends the run early (the parameters are those of the last update). */
  shouldStop?(): boolean;
}

export interface TrainResult {
  steps: number;
  history: StepMetrics[];
  evals: EvalMetrics[];
  stopped: boolean;
}

export class Trainer {
  private readonly optimizer: Optimizer;
  private done = 0;
  private peakBytes: number | null = null;
  private startedAt: number | null = null;

  constructor(
    private readonly prepared: PreparedMethod,
    private readonly config: ModelConfig,
    private readonly feed: BatchFeed,
    /** The run's settings, as given (checked here). */
    readonly settings: TrainConfig,
    private readonly validation: Batch[] = [],
    private readonly options: TrainerOptions = {},
  ) {
    checkTrainConfig(settings);
    this.optimizer = createOptimizer(prepared.trainable, optimizerSettings(settings));
  }

  /** Updates done so far. */
  get stepsDone(): number {
    return this.done;
  }

  /** Runs updates until `settings.steps` or until hooks.shouldStop(); evaluates every evalEvery. */
  async run(hooks: TrainHooks = {}): Promise<TrainResult> {
    const history: StepMetrics[] = [];
    const evals: EvalMetrics[] = [];
    let stopped = false;
    while (this.done < this.settings.steps) {
      if (hooks.shouldStop?.()) {
        stopped = true;
        break;
      }
      const metrics = await this.step();
      history.push(metrics);
      await hooks.onStep?.(metrics);
      const { evalEvery } = this.settings;
      const evalNow = evalEvery > 0 && (this.done % evalEvery === 0 || this.done === this.settings.steps);
      if (evalNow && this.validation.length > 0) {
        const e = await this.evaluate();
        evals.push(e);
        await hooks.onEval?.(e);
      }
    }
    return { steps: this.done, history, evals, stopped };
  }

  /** One optimizer update. Throws UserError('training-diverged') without updating on NaN/Inf. */
  async step(): Promise<StepMetrics> {
    const start = performance.now();
    this.startedAt ??= start;
    const profile = this.options.profileMemory ?? 'first';
    const measure = profile === 'every' || (profile === 'first' && this.peakBytes === null);
    const result = measure ? await this.profiled(() => this.update()) : await this.update();
    const stepMs = performance.now() - start;
    return {
      ...result,
      step: this.done,
      stepMs,
      elapsedMs: performance.now() - this.startedAt,
      tokensPerSec: result.tokens / Math.max(stepMs / 1000, 1e-9),
      bytesInUse: tf.memory().numBytes,
      peakBytes: this.peakBytes,
    };
  }

  /** Mean next-token cross-entropy over the validation batches (no gradients, one readback). */
  async evaluate(batches: Batch[] = this.validation): Promise<EvalMetrics> {
    const targets = batches.reduce((n, b) => n + countTargets(b), 0);
    let sum = tf.scalar(0); // Σ n_i · L_i
    for (const batch of batches) {
      const n = countTargets(batch);
      const next = tf.tidy(() => tf.add(sum, tf.mul(this.batchLoss(batch), n)) as tf.Scalar);
      sum.dispose();
      sum = next;
    }
    const total = (await sum.data())[0];
    sum.dispose();
    const loss = total / Math.max(targets, 1);
    return { step: this.done, loss, perplexity: Math.exp(loss), targetTokens: targets };
  }

  /** The run's position: the trainable values, optimizer state and data position. */
  async state(): Promise<TrainerState> {
    const trainable = await Promise.all(this.prepared.trainable.map(async (v) => new Float32Array(await v.data())));
    return {
      step: this.done,
      trainable,
      optimizer: await this.optimizer.state(),
      data: this.feed.position?.() ?? null,
    };
  }

  loadState(state: TrainerState): void {
    this.prepared.trainable.forEach((v, i) => {
      tf.tidy(() => v.assign(tf.tensor(state.trainable[i], v.shape, 'float32')));
    });
    this.optimizer.loadState(state.optimizer);
    if (state.data && this.feed.seek) this.feed.seek(state.data);
    this.done = state.step;
  }

  /** Frees the optimizer state (the prepared method is the caller's to dispose). */
  dispose(): void {
    this.optimizer.dispose();
  }

  private async profiled<T>(f: () => Promise<T>): Promise<T> {
    const { value, peakBytes } = await measurePeakBytes(f);
    this.peakBytes = Math.max(this.peakBytes ?? 0, peakBytes);
    return value;
  }

  private async update(): Promise<Pick<StepMetrics, 'loss' | 'lr' | 'gradNorm' | 'tokens' | 'targetTokens'>> {
    const micro = Array.from({ length: this.settings.gradAccum }, () => this.feed.next());
    const counts = micro.map(countTargets);
    const total = counts.reduce((a, b) => a + b, 0);
    const tokens = micro.reduce((n, b) => n + b.batchSize * b.seqLen, 0);
    const lr = learningRate(this.done, {
      peak: this.settings.lr,
      warmup: this.settings.warmup,
      total: this.settings.steps,
      kind: this.settings.schedule,
    });

    let grads: tf.NamedTensorMap = {};
    let loss = tf.scalar(0);
    micro.forEach((batch, i) => {
      const weight = counts[i] / Math.max(total, 1); // n_i / N
      const g = tf.variableGrads(() => tf.mul(this.batchLoss(batch), weight) as tf.Scalar, this.prepared.trainable);
      const summed = tf.tidy(() => ({
        loss: tf.keep(tf.add(loss, g.value)),
        grads: Object.fromEntries(
          Object.entries(g.grads).map(([name, d]) => [name, tf.keep(grads[name] ? tf.add(grads[name], d) : d.clone())]),
        ),
      }));
      tf.dispose([loss, g.value, ...Object.values(g.grads), ...Object.values(grads)]);
      loss = summed.loss as tf.Scalar;
      grads = summed.grads;
    });

    const scalars = tf.tidy(() => tf.stack([loss, globalNorm(Object.values(grads))])); // [2]
    const [lossValue, gradNorm] = await scalars.data();
    scalars.dispose();
    loss.dispose();
    try {
      checkFinite(this.done + 1, lossValue, gradNorm, lr);
      const { gradClip } = this.settings;
      // torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when that is below 1.
      const scale = gradClip > 0 ? Math.min(1, gradClip / (gradNorm + 1e-6)) : 1;
      if (scale < 1) {
        // One gradient at a time: scaling all before freeing any would hold every gradient twice.
        for (const [name, d] of Object.entries(grads)) {
          grads[name] = tf.mul(d, scale);
          d.dispose();
        }
      }
      this.optimizer.apply(grads, lr);
    } finally {
      tf.dispose(Object.values(grads));
    }
    this.done += 1;
    return { loss: lossValue, lr, gradNorm, tokens, targetTokens: total };
  }

  /** Mean cross-entropy of one batch through the method's weights and linear. */
  private batchLoss(batch: Batch): tf.Scalar {
    return tf.tidy(() => {
      const { batchSize: B, seqLen: T } = batch;
      const ids = tf.tensor2d(batch.inputIds, [B, T], 'int32'); // [B, T]
      const labels = tf.tensor2d(batch.labels, [B, T], 'int32'); // [B, T]
      return causalLmLoss({ config: this.config, weights: this.prepared.weights }, ids, labels, this.prepared.linear);
    });
  }
}

/** √(Σ‖g‖²) over all gradient tensors (a scalar tensor). */
export function globalNorm(grads: tf.Tensor[]): tf.Scalar {
  // Summed pairwise rather than with tf.addN: on WebGPU one addN kernel over more than ~7 inputs
  // exceeds the device's storage-buffer limit and computes garbage.
  return tf.tidy(() => tf.sqrt(grads.map((g) => tf.sum(tf.square(g))).reduce((a, b) => tf.add(a, b))) as tf.Scalar);
}
