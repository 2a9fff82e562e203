/**
 * The two optimizers' names and hyperparameters (their arithmetic is optimizer.ts): plain data,
 * so the studio page and the training config read them without loading tfjs.
 */
export const OPTIMIZER_NAMES = ['adamw', 'sgd'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

export interface AdamWSettings {
  kind: 'adamw';
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
}

export interface SgdSettings {
  kind: 'sgd';
  momentum: number;
  weightDecay: number;
}

export type OptimizerSettings = AdamWSettings | SgdSettings;

export const ADAMW_DEFAULTS: AdamWSettings = { kind: 'adamw', beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0 };
export const SGD_DEFAULTS: SgdSettings = { kind: 'sgd', momentum: 0, weightDecay: 0 };
