/**
 * training.json: every number the model card states, as the run measured it. The card is
 * rendered from this file, never typed by hand.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Recipe } from './recipe';
import type { Sample } from './samples';

export const REPORT_FILE = 'training.json';
/** Held-out windows of seqLen tokens measured during training for the card's loss curve. */
export const MONITOR_WINDOWS = 64;

export interface StyleShiftReport {
  command: string;
  dataset: string;
  method: string;
  steps: number;
  /** Validation loss of the style corpus before and after fine-tuning. */
  before: number;
  after: number;
}

export interface TrainingReport {
  recipe: Recipe;
  seed: number;
  command: string;
  parameters: number;
  weightsBytes: number;
  data: {
    source: string;
    trainChapters: number;
    heldOutChapters: string[];
    trainChars: number;
    trainTokens: number;
  };
  training: {
    steps: number;
    tokensSeen: number;
    epochs: number;
    seconds: number;
    tokensPerSec: number;
    /** Mean training loss over the last 5% of the updates. */
    finalTrainLoss: number;
    backend: string;
    hardware: string;
    /**
     * Loss on the first MONITOR_WINDOWS windows of the held-out file during training (not used to stop or choose);
     * absent in older reports.
     */
    monitor?: { step: number; loss: number }[];
  };
  heldOut: {
    file: string;
    chars: number;
    seqLen: number;
    tokens: number;
    loss: number;
    perplexity: number;
  };
  bigram: { loss: number; lambda: number };
  /** 1 − model loss / bigram loss: the quality floor asks for ≥ 0.20. */
  improvementOverBigram: number;
  samples: Sample[];
  styleShift: StyleShiftReport | null;
}

export function writeReport(dir: string, report: TrainingReport): void {
  writeFileSync(join(dir, REPORT_FILE), `${JSON.stringify(report, null, 2)}\n`);
}

export function readReport(dir: string): TrainingReport {
  return JSON.parse(readFileSync(join(dir, REPORT_FILE), 'utf8')) as TrainingReport;
}
