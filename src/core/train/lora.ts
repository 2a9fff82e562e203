/**
 * LoRA (Hu et al. 2021) as a PreparedMethod: the paper's baseline, as PEFT builds it.
 *
 *   y = x Wᵀ + b + (alpha / r) · dropout(x) Aᵀ Bᵀ      A [r, in], B [out, r]
 *
 * A starts kaiming-uniform with a = √5 (PEFT's default: U(−1/√in, 1/√in)), B at zero, so the
 * model starts exactly at the base. Targets default to q, k, v, up, down (the paper's baseline).
 *
 * Fairness with S²FT: the base matmul of EVERY linear (adapted or not) is S²FT's `frozenLinear`,
 * which saves nothing for the backward and never computes a weight gradient. Only the adapter
 * branch uses plain autodiff, and it saves what LoRA inherently needs (the input x for dA and
 * x Aᵀ for dB). So the memory comparison measures the methods, not two ways of freezing.
 *
 * Dropout is active only while gradients are being recorded (a training step), never during
 * evaluation or generation; each training call draws a fresh mask from a seeded counter.
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors';
import type { LinearFn, LlamaModel, ModuleName } from '../model/types';
import { encodePeftLora, type PeftFiles, type PeftLoraModule } from '../s2ft/peft';
import { frozenLinear } from '../s2ft/sparseLinear';
import type { MethodStats, PreparedMethod } from './method';

export const DEFAULT_LORA_TARGETS: readonly ModuleName[] = ['q_proj', 'k_proj', 'v_proj', 'up_proj', 'down_proj'];

export interface LoraOptions {
  rank: number;
  /** Scale numerator: the update is (alpha / rank) · B A. Default 2 · rank (the paper's baseline r 32, alpha 64). */
  alpha?: number;
  /** Dropout on the adapter branch's input, 0 ≤ p < 1. Default 0. */
  dropout?: number;
  targetModules?: readonly ModuleName[];
  seed?: number;
}

interface LoraPair {
  layer: number;
  module: ModuleName;
  A: tf.Variable<tf.Rank.R2>;   // [r, in]
  B: tf.Variable<tf.Rank.R2>;   // [out, r]
}

export interface PreparedLora extends PreparedMethod {
  /** The adapter as PEFT files (adapter_config.json + adapter_model.safetensors). */
  exportPeft(baseModelName: string): Promise<PeftFiles>;
}

export function prepareLora(model: LlamaModel, options: LoraOptions): PreparedLora {
  const { weights } = model;
  const rank = options.rank;
  const alpha = options.alpha ?? 2 * rank;
  const dropout = options.dropout ?? 0;
  const targets = options.targetModules ?? DEFAULT_LORA_TARGETS;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(rank) || rank < 1) throw new UserError('bad-argument', `LoRA rank must be a positive integer, got ${rank}`);
  if (!(dropout >= 0 && dropout < 1)) throw new UserError('bad-argument', `LoRA dropout must be in [0, 1), got ${dropout}`);
  if (!(alpha > 0)) throw new UserError('bad-argument', `LoRA alpha must be positive, got ${alpha}`);
  if (targets.length === 0) throw new UserError('bad-argument', 'LoRA needs at least one target module');
  const scale = alpha / rank;

  let seedCounter = 0;
  const pairs = new Map<string, LoraPair>();
  weights.layers.forEach((layer, i) => {
    for (const module of targets) {
      const [out, inDim] = layer.linear[module].shape;
      const bound = 1 / Math.sqrt(inDim);        // kaiming_uniform(a=√5): gain √(2/6) · √(3/in)
      pairs.set(`${i}.${module}`, {
        layer: i, module,
        A: tf.tidy(() => tf.variable(tf.randomUniform([rank, inDim], -bound, bound, 'float32', seed * 7919 + ++seedCounter))), // [r, in]
        B: tf.tidy(() => tf.variable(tf.zeros([out, rank]))),                                                                 // [out, r]
      });
    }
  });
  const list = [...pairs.values()];

  let dropoutCalls = 0;
  const linear: LinearFn = (x, weight, bias, site) => {
    const y = frozenLinear(x, weight, bias);                        // [N, out]
    const pair = pairs.get(`${site.layer}.${site.module}`);
    if (!pair) return y;
    const training = dropout > 0 && tf.engine().isTapeOn();
    const xd = training ? tf.dropout(x, dropout, undefined, seed * 1_000_003 + ++dropoutCalls) as tf.Tensor2D : x; // [N, in]
    const down = tf.matMul(xd, pair.A, false, true);                // [N, r]
    const up = tf.matMul(down, pair.B, false, true);                // [N, out]
    return tf.add(y, tf.mul(up, scale));                            // [N, out]
  };

  const stats = (): MethodStats => {
    const params = list.reduce((sum, p) => sum + p.A.size + p.B.size, 0);
    return { trainableParams: params, trainableBytes: 4 * params };
  };

  // Async read-back: a synchronous one from a WebGPU worker loses the device.
  const exportPeft = async (baseModelName: string): Promise<PeftFiles> => {
    const modules: PeftLoraModule[] = await Promise.all(list.map(async (p) => ({
      layer: p.layer, module: p.module, r: rank, alpha,
      A: Float32Array.from(await p.A.data()), B: Float32Array.from(await p.B.data()),
      inDim: p.A.shape[1], outDim: p.B.shape[0],
    })));
    return encodePeftLora({ baseModelName, r: rank, alpha, dropout, targetModules: [...targets], modules });
  };

  return {
    name: 'lora',
    trainable: list.flatMap((p) => [p.A, p.B]),
    weights,
    linear,
    stats,
    exportPeft,
    dispose: () => list.forEach((p) => { p.A.dispose(); p.B.dispose(); }),
  };
}
