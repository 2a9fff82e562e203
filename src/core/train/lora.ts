/**
 * LoRA (Hu et al. 2021) as a PreparedMethod: the paper's baseline, as PEFT builds it.
 *
 *   y = x Wᵀ + b + (alpha / r) · dropout(x) Aᵀ Bᵀ      A [r, in], B [out, r]
 *
 * A starts kaiming-uniform with a = √5 (PEFT's default: U(−1/√in, 1/√in)), B at zero, so the
 * model starts exactly at the base. Targets default to q, k, v, up, down (the paper's baseline).
 *
 * Fairness with S²FT: a linear without an adapter is the same `frozenLinear` S²FT uses, and an
 * adapted one is one explicit forward/backward pair (`loraLinear`) that computes no weight
 * gradient, saves only what LoRA inherently needs (the adapter input for dA and x Aᵀ for dB) and
 * releases its gradient once used, as S²FT's ops do. So the memory comparison measures the
 * methods, not two ways of freezing.
 *
 * Dropout is active only while gradients are being recorded (a training step), never during
 * evaluation or generation; each training call draws a fresh mask from a seeded counter.
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors';
import type { LinearFn, LlamaModel, ModuleName } from '../model/types';
import { encodePeftLora, type PeftFiles, type PeftLoraModule } from '../s2ft/peft';
import { releasing } from '../model/fusedOps';
import { frozenLinear, frozenLinearBackward, frozenLinearForward } from '../model/linear';
import { DEFAULT_LORA_TARGETS } from '../s2ft/budget';
import { loraAlpha, type TrainConfig } from './config';
import type { MethodStats, PreparedMethod } from './method';

export interface LoraOptions {
  rank: number;
  /** Scale numerator: the update is (alpha / rank) · B A. Default 2 · rank (the paper's baseline r 32, alpha 64). */
  alpha?: number;
  /** Dropout on the adapter branch's input, 0 ≤ p < 1. Default 0. */
  dropout?: number;
  targetModules?: readonly ModuleName[];
  seed?: number;
}

/** The LoRA settings of a run, as `train`, the studio and the recipe's initial adapter all build them. */
export function loraOptions(t: TrainConfig): LoraOptions {
  return { rank: t.loraRank, alpha: loraAlpha(t), dropout: t.loraDropout, seed: t.seed };
}

interface LoraPair {
  layer: number;
  module: ModuleName;
  A: tf.Variable<tf.Rank.R2>; // [r, in]
  B: tf.Variable<tf.Rank.R2>; // [out, r]
}

export interface PreparedLora extends PreparedMethod {
  /** The adapter as PEFT files (adapter_config.json + adapter_model.safetensors). */
  exportPeft(baseModel: { name: string; fingerprint: string }): Promise<PeftFiles>;
}

export function prepareLora(model: LlamaModel, options: LoraOptions): PreparedLora {
  const { weights } = model;
  const rank = options.rank;
  const alpha = options.alpha ?? 2 * rank;
  const dropout = options.dropout ?? 0;
  const targets = options.targetModules ?? DEFAULT_LORA_TARGETS;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(rank) || rank < 1)
    throw new UserError('bad-argument', `LoRA rank must be a positive integer, got ${rank}`);
  if (!(dropout >= 0 && dropout < 1))
    throw new UserError('bad-argument', `LoRA dropout must be in [0, 1), got ${dropout}`);
  if (!(alpha > 0)) throw new UserError('bad-argument', `LoRA alpha must be positive, got ${alpha}`);
  if (targets.length === 0) throw new UserError('bad-argument', 'LoRA needs at least one target module');
  const scale = alpha / rank;

  let seedCounter = 0;
  const pairs = new Map<string, LoraPair>();
  weights.layers.forEach((layer, i) => {
    for (const module of targets) {
      const [out, inDim] = layer.linear[module].shape;
      const bound = 1 / Math.sqrt(inDim); // kaiming_uniform(a=√5): gain √(2/6) · √(3/in)
      pairs.set(`${i}.${module}`, {
        layer: i,
        module,
        A: tf.tidy(() =>
          tf.variable(tf.randomUniform([rank, inDim], -bound, bound, 'float32', seed * 7919 + ++seedCounter)),
        ), // [r, in]
        B: tf.tidy(() => tf.variable(tf.zeros([out, rank]))), // [out, r]
      });
    }
  });
  const list = [...pairs.values()];

  let dropoutCalls = 0;
  const linear: LinearFn = (x, weight, bias, site) => {
    const pair = pairs.get(`${site.layer}.${site.module}`);
    if (!pair) return frozenLinear(x, weight, bias); // [N, out]
    const training = dropout > 0 && tf.engine().isTapeOn();
    // [N, in]
    const xd = training ? (tf.dropout(x, dropout, undefined, seed * 1_000_003 + ++dropoutCalls) as tf.Tensor2D) : null;
    return loraLinear(x, xd, weight, bias, pair.A, pair.B, scale); // [N, out]
  };

  const stats = (): MethodStats => {
    const params = list.reduce((sum, p) => sum + p.A.size + p.B.size, 0);
    return { trainableParams: params, trainableBytes: 4 * params };
  };

  // Async read-back: a synchronous one from a WebGPU worker loses the device.
  const exportPeft = async (baseModel: { name: string; fingerprint: string }): Promise<PeftFiles> => {
    const modules: PeftLoraModule[] = await Promise.all(
      list.map(async (p) => ({
        layer: p.layer,
        module: p.module,
        r: rank,
        alpha,
        A: Float32Array.from(await p.A.data()),
        B: Float32Array.from(await p.B.data()),
        inDim: p.A.shape[1],
        outDim: p.B.shape[0],
      })),
    );
    const numLayers = model.config.numLayers;
    return encodePeftLora({ baseModel, numLayers, r: rank, alpha, dropout, modules });
  };

  return {
    name: 'lora',
    trainable: list.flatMap((p) => [p.A, p.B]),
    weights,
    linear,
    stats,
    exportPeft,
    dispose: () =>
      list.forEach((p) => {
        p.A.dispose();
        p.B.dispose();
      }),
  };
}

/**
 * y = x Wᵀ + b + s·(x_d Aᵀ) Bᵀ, with x_d = dropout(x) while training (null: x itself).
 * x, x_d [N, in], W [out, in], A [r, in], B [out, r] → [N, out]. Saves x_d and u = x_d Aᵀ [N, r];
 * A and B are variables, alive anyway, so the backward reads them rather than saving copies.
 * Backward, with g = s·dy B [N, r]:  dB = s·dyᵀ u,  dA = gᵀ x_d,  d x_d = g A,  dx = dy W (+ d x_d).
 */
export function loraLinear(
  x: tf.Tensor2D,
  xd: tf.Tensor2D | null,
  weight: tf.Tensor2D,
  bias: tf.Tensor1D | null,
  A: tf.Variable<tf.Rank.R2>,
  B: tf.Variable<tf.Rank.R2>,
  scale: number,
): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, AIn, BIn] = args as tf.Tensor2D[];
    const xdIn = xd ? (args[3] as tf.Tensor2D) : xIn; // [N, in]
    const u = tf.matMul(xdIn, AIn, false, true) as tf.Tensor2D; // [N, r]
    (args[args.length - 1] as tf.GradSaveFunc)([xdIn, u]);
    const branch = tf.mul(tf.matMul(u, BIn, false, true), scale); // [N, out]
    return {
      value: tf.add(frozenLinearForward(xIn, weight, bias), branch) as tf.Tensor2D, // [N, out]
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        releasing(dy, saved, () => {
          const [xds, us] = saved as tf.Tensor2D[];
          const sdy = tf.mul(dy, scale) as tf.Tensor2D; // [N, out]
          const g = tf.matMul(sdy, BIn); // [N, r]
          const dB = tf.matMul(sdy, us, true, false); // [out, r]
          const dA = tf.matMul(g, xds, true, false); // [r, in]
          const dxd = tf.matMul(g, AIn); // [N, in]
          const dxBase = frozenLinearBackward(dy as tf.Tensor2D, weight); // [N, in]
          return xd ? [dxBase, dA, dB, dxd] : [tf.add(dxBase, dxd), dA, dB];
        }),
    };
  });
  return (xd ? op(x, A, B, xd) : op(x, A, B)) as tf.Tensor2D;
}
