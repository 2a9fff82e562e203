/**
 * The two optimizers the trainer offers, written out by hand so that their arithmetic is the same
 * on every backend and matches PyTorch:
 *
 *   AdamW (torch.optim.AdamW, decoupled weight decay):
 *     p ← p − lr·wd·p
 *     m ← β1·m + (1−β1)·g          v ← β2·v + (1−β2)·g²
 *     p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε)
 *   SGD (torch.optim.SGD, dampening 0, no Nesterov):
 *     g ← g + wd·p                 (L2, as torch couples it for SGD)
 *     b ← g at t = 1, else μ·b + g (only when momentum μ > 0)
 *     p ← p − lr·b
 *
 * tf.train.adam is not used: it has no decoupled weight decay, and its epsilon default differs
 * between backends (WebGL uses 1e-4). Here ε is always passed explicitly.
 *
 * Optimizer state lives in non-trainable tf.Variables and is updated in place; `state()` reads it
 * back as plain arrays for a checkpoint and `loadState()` restores it (resume).
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors';
import type { AdamWSettings, OptimizerName, OptimizerSettings, SgdSettings } from './optimizerSettings';

/** Optimizer state as plain arrays: `buffers[name][i]` belongs to the i-th variable. */
export interface OptimizerState {
  kind: OptimizerName;
  /** Updates applied so far (AdamW's bias correction uses it). */
  step: number;
  /** AdamW: m and v. SGD with momentum: momentum. SGD without: none. */
  buffers: Record<string, Float32Array[]>;
}

export interface Optimizer {
  readonly settings: OptimizerSettings;
  /** Updates every variable in place. `grads` is keyed by variable name (as tf.variableGrads returns it). */
  apply(grads: tf.NamedTensorMap, lr: number): void;
  state(): Promise<OptimizerState>;
  loadState(state: OptimizerState): void;
  dispose(): void;
}

export function createOptimizer(variables: tf.Variable[], settings: OptimizerSettings): Optimizer {
  return settings.kind === 'adamw' ? new AdamW(variables, settings) : new Sgd(variables, settings);
}

/** Zero-initialised state buffers, one per variable (unnamed: two optimizers may share variables). */
function zeroBuffers(variables: tf.Variable[]): tf.Variable[] {
  return variables.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
}

function gradFor(grads: tf.NamedTensorMap, p: tf.Variable): tf.Tensor {
  const g = grads[p.name];
  if (!g) throw new Error(`optimizer: no gradient for variable ${p.name}`);
  return g;
}

async function readBuffers(buffers: tf.Variable[]): Promise<Float32Array[]> {
  return Promise.all(buffers.map(async (b) => new Float32Array(await b.data())));
}

function writeBuffers(target: tf.Variable[], source: Float32Array[] | undefined, name: string): void {
  if (!source || source.length !== target.length) {
    throw new UserError(
      'shape-mismatch',
      `optimizer state "${name}" has ${source?.length ?? 0} buffers, expected ${target.length}`,
    );
  }
  target.forEach((b, i) => {
    if (source[i].length !== b.size) {
      throw new UserError(
        'shape-mismatch',
        `optimizer state "${name}"[${i}] has ${source[i].length} values, expected ${b.size}`,
      );
    }
    tf.tidy(() => b.assign(tf.tensor(source[i], b.shape, 'float32')));
  });
}

function checkKind(state: OptimizerState, kind: OptimizerName): void {
  if (state.kind !== kind) {
    throw new UserError('bad-argument', `optimizer state was saved by ${state.kind}, cannot resume it with ${kind}`);
  }
}

class AdamW implements Optimizer {
  private t = 0;
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];

  constructor(
    private readonly variables: tf.Variable[],
    readonly settings: AdamWSettings,
  ) {
    this.m = zeroBuffers(variables);
    this.v = zeroBuffers(variables);
  }

  apply(grads: tf.NamedTensorMap, lr: number): void {
    this.t += 1;
    const { beta1, beta2, epsilon, weightDecay } = this.settings;
    const stepSize = lr / (1 - beta1 ** this.t);
    const sqrtBias2 = Math.sqrt(1 - beta2 ** this.t);
    // One variable at a time, and each expression in its own tidy: a temporary lives only until
    // the expression that needs it is done, so the optimizer's peak is a few of one parameter's
    // size (under full FT, the embedding's), not the model's nor a dozen of the largest one.
    this.variables.forEach((p, i) =>
      tf.tidy(() => {
        const g = gradFor(grads, p); // same shape as p
        const m = tf.tidy(() => tf.add(tf.mul(this.m[i], beta1), tf.mul(g, 1 - beta1)));
        this.m[i].assign(m);
        const v = tf.tidy(() => tf.add(tf.mul(this.v[i], beta2), tf.mul(tf.square(g), 1 - beta2)));
        this.v[i].assign(v);
        const update = tf.tidy(() => tf.mul(tf.div(m, tf.add(tf.div(tf.sqrt(v), sqrtBias2), epsilon)), stepSize));
        tf.dispose([m, v]); // the buffers live on in this.m[i], this.v[i]
        p.assign(tf.tidy(() => tf.sub(weightDecay > 0 ? tf.mul(p, 1 - lr * weightDecay) : p, update)));
      }),
    );
  }

  async state(): Promise<OptimizerState> {
    return { kind: 'adamw', step: this.t, buffers: { m: await readBuffers(this.m), v: await readBuffers(this.v) } };
  }

  loadState(state: OptimizerState): void {
    checkKind(state, 'adamw');
    writeBuffers(this.m, state.buffers.m, 'm');
    writeBuffers(this.v, state.buffers.v, 'v');
    this.t = state.step;
  }

  dispose(): void {
    [...this.m, ...this.v].forEach((b) => b.dispose());
  }
}

class Sgd implements Optimizer {
  private t = 0;
  private readonly momentumBuffers: tf.Variable[];

  constructor(
    private readonly variables: tf.Variable[],
    readonly settings: SgdSettings,
  ) {
    this.momentumBuffers = settings.momentum > 0 ? zeroBuffers(variables) : [];
  }

  apply(grads: tf.NamedTensorMap, lr: number): void {
    this.t += 1;
    const { momentum, weightDecay } = this.settings;
    this.variables.forEach((p, i) =>
      tf.tidy(() => {
        // one tidy per variable, as AdamW
        let d = gradFor(grads, p); // same shape as p
        if (weightDecay > 0) d = tf.add(d, tf.mul(p, weightDecay));
        if (momentum > 0) {
          d = this.t === 1 ? d : tf.add(tf.mul(this.momentumBuffers[i], momentum), d);
          this.momentumBuffers[i].assign(d);
        }
        p.assign(tf.sub(p, tf.mul(d, lr)));
      }),
    );
  }

  async state(): Promise<OptimizerState> {
    const buffers: OptimizerState['buffers'] = {};
    if (this.momentumBuffers.length > 0) buffers.momentum = await readBuffers(this.momentumBuffers);
    return { kind: 'sgd', step: this.t, buffers };
  }

  loadState(state: OptimizerState): void {
    checkKind(state, 'sgd');
    if (this.momentumBuffers.length > 0) writeBuffers(this.momentumBuffers, state.buffers.momentum, 'momentum');
    this.t = state.step;
  }

  dispose(): void {
    this.momentumBuffers.forEach((b) => b.dispose());
  }
}
