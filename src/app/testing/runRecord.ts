/** Test fixture: a finished S²FT run as the Compare panel keeps it, with every optional field present. */
import type { EvalPoint, StepPoint } from '../../../workers/api';
import { DEFAULT_TRAIN_CONFIG } from '../../core/train/config';
import type { RunRecord } from '../store';

export function exampleRun(steps = 5, name = 's2ft #1'): RunRecord {
  const points: StepPoint[] = Array.from({ length: steps }, (_, i) => ({
    step: i + 1,
    steps,
    loss: 3 - i * 0.1,
    lr: 0.01,
    gradNorm: 1.5 + i / 7,
    tokensPerSec: 812.25,
    stepMs: 120 + i,
    elapsedMs: 120 * (i + 1),
    etaMs: 120 * (steps - i - 1),
    bytesInUse: 5_000_000,
    bytesAllocated: i % 2 ? null : 9_000_000,
    numTensors: 321,
    peakBytes: i === 0 ? 12_000_000 : null,
  }));
  const evals: EvalPoint[] = [
    { step: 0, evalLoss: 3.1, heldoutLoss: 2.9, forgetting: 0, exactMatch: { correct: 0, total: 12 } },
    { step: steps, evalLoss: 2.5, heldoutLoss: 2.95, forgetting: 0.05, exactMatch: null },
  ];
  const runId = 'run-1700000000000';
  return {
    summary: {
      runId,
      name,
      status: 'done',
      method: 's2ft',
      settings: {
        ...DEFAULT_TRAIN_CONFIG,
        steps,
        samplePrompts: ['seven harpoons =', 'a "quoted", prompt'],
        heldout: 'none',
        name,
      },
      selection: {
        layers: [
          { heads: [1], channels: [0, 5], vHeads: [0], upChannels: [3] },
          { heads: [], channels: [7] },
        ],
      },
      modelName: 'moby-llama-800k',
      dataName: 'number-words/train',
      stepsDone: steps,
      finalLoss: points.at(-1)?.loss ?? null,
      finalEvalLoss: 2.5,
      forgettingDelta: 0.05,
      medianStepMs: 122,
      peakBytes: 12_000_000,
      trainableParams: 4096,
      adapterId: null,
    },
    history: {
      runId,
      name,
      steps: points,
      evals,
      samples: [{ step: 0, samples: [{ prompt: 'seven harpoons =', text: ' ane, and the c' }] }],
    },
    savedAt: 1_700_000_000_500,
  };
}
