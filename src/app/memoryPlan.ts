/**
 * Whether the chosen model, method, batch and length fit this device before training starts: the
 * core's estimate (src/core/train/memoryEstimate.ts) at the settings' batch × length against the
 * worker's training budget, and the step's largest buffer against the GPU's buffer limit; when
 * either does not fit, the largest batch × length that does.
 */
import type { ModelSummary } from '../../workers/api';
import type { Budget } from '../core/s2ft/budget';
import { unitCounts, type UnitCounts } from '../core/s2ft/budget';
import {
  estimateTrainingBytes,
  largestActivationBytes,
  largestFitting,
  methodSizes,
  type MemoryEstimate,
} from '../core/train/memoryEstimate';
import { formatBytes } from './format';
import type { StudioSettings } from './settings';

export interface MemoryPlan {
  estimate: MemoryEstimate;
  /** Why the chosen setting does not fit, in one sentence; null when it fits. */
  problem: string | null;
  /** The largest batch × length that fits (null when it fits already, or nothing does). */
  suggestion: { batchSize: number; seqLen: number } | null;
}

function budgetOf(s: StudioSettings): Budget {
  if (s.budget === 'perLayer') return { kind: 'perLayer', heads: s.headsPerLayer, channels: s.channelsPerLayer };
  if (s.budget === 'ratio') return { kind: 'ratio', heads: s.headRatio, channels: s.channelRatio };
  return { kind: 'loraRank', rank: s.matchRank };
}

export function memoryPlan(summary: ModelSummary, s: StudioSettings): MemoryPlan {
  const { config } = summary;
  const modules = { oProj: s.oProj, downProj: s.downProj, vProj: s.vProj, upProj: s.upProj };
  let counts: UnitCounts;
  try {
    counts = unitCounts(config, budgetOf(s), 'uniform', modules);
  } catch {
    counts = { allocation: 'uniform', heads: 0, channels: 0 }; // the Selection panel reports the bad budget
  }
  const sizes = methodSizes(config, counts, modules, s.loraRank);
  const at = (batchSize: number, seqLen: number) =>
    estimateTrainingBytes(config, { batchSize, seqLen, maxBufferBytes: summary.maxBufferBytes, ...sizes });
  const estimate = at(s.batchSize, s.seqLen);
  const tooMuch = (b: number, t: number) => at(b, t)[s.method] > summary.trainingLimitBytes;
  const tooWide = (b: number, t: number) =>
    largestActivationBytes(config, b, t, summary.maxBufferBytes) > summary.maxBufferBytes;
  const fits = (b: number, t: number) => !tooMuch(b, t) && !tooWide(b, t);
  if (fits(s.batchSize, s.seqLen)) return { estimate, problem: null, suggestion: null };
  const problem = tooMuch(s.batchSize, s.seqLen)
    ? `${s.method === 's2ft' ? 'S²FT' : s.method === 'lora' ? 'LoRA' : 'Full fine-tuning'} at batch ` +
      `${s.batchSize} × ${s.seqLen} tokens needs about ${formatBytes(estimate[s.method])}, more than the ` +
      `${formatBytes(summary.trainingLimitBytes)} this device allows.`
    : `At batch ${s.batchSize} × ${s.seqLen} tokens one activation needs ` +
      `${formatBytes(largestActivationBytes(config, s.batchSize, s.seqLen, summary.maxBufferBytes))}, more than ` +
      `the ${formatBytes(summary.maxBufferBytes)} one GPU buffer holds.`;
  return { estimate, problem, suggestion: largestFitting(fits, { batchSize: s.batchSize, seqLen: s.seqLen }) };
}
