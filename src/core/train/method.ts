/**
 * One interface for the three fine-tuning methods (S²FT, LoRA, full FT), so the trainer, the UI,
 * the CLI and the benchmarks treat them alike: "compare S²FT with LoRA and full FT" is a loop.
 */
import type * as tf from '@tensorflow/tfjs';
import type { LinearFn, LlamaWeights } from '../model/types';

export const METHOD_NAMES = ['s2ft', 'lora', 'full'] as const;
export type MethodName = (typeof METHOD_NAMES)[number];
/** Each method's short name in tables and logs. */
export const METHOD_LABEL: Record<MethodName, string> = { s2ft: 'S²FT', lora: 'LoRA', full: 'full FT' };

export interface MethodStats {
  trainableParams: number;
  /** fp32 bytes of the trainable parameters (optimizer state is a multiple of this). */
  trainableBytes: number;
}

/** A method applied to a base model, ready to train. */
export interface PreparedMethod {
  name: MethodName;
  /** The variables the optimizer updates (and nothing else). */
  trainable: tf.Variable[];
  /** The weights the forward pass runs with (full FT: trainable copies; others: the frozen base). */
  weights: LlamaWeights;
  /** The linear-layer override used by every linear in the forward pass. */
  linear: LinearFn;
  stats(): MethodStats;
  /** Frees what prepare() allocated (never the base weights). */
  dispose(): void;
}
