/**
 * Resumable run checkpoints: everything needed to continue a run with exactly the losses it
 * would have had without interruption (trainable values, optimizer state, data position, step,
 * settings, selection, where the model and data came from), plus the metrics so far so the
 * charts come back after a reload.
 *
 * The worker keeps them in IndexedDB (idbCheckpointStore.ts); tests use the in-memory store.
 * Typed arrays are stored as they are (structured clone), never copied to the page.
 */
import type { OptimizerState } from '../src/core/train/optimizer';
import type { DataPosition } from '../src/core/train/batches';
import type { Selection } from '../src/core/s2ft/types';
import type { CheckpointSummary, DataOptions, DataSource, TrainRequest } from './api';

export interface CheckpointRecord {
  summary: CheckpointSummary;
  config: TrainRequest;
  selection: Selection | null;
  data: { source: DataSource; options: DataOptions };
  /** The held-out loss at step 0, so the forgetting meter continues from the same baseline. */
  baselineHeldoutLoss: number | null;
  state: {
    step: number;
    trainable: Float32Array[];
    optimizer: OptimizerState;
    data: DataPosition | null;
  };
}

/** What a run's checkpoints record that the run itself does not use: the session knows it. */
export interface RunProvenance {
  /** The settings as saved: the run's, with `heldout` the text it meters (so a resume meters the same). */
  config: TrainRequest;
  model: { fingerprint: string; source: CheckpointSummary['modelSource'] };
  data: { source: DataSource; options: DataOptions };
}

export interface CheckpointStore {
  put(record: CheckpointRecord): Promise<void>;
  get(runId: string): Promise<CheckpointRecord | undefined>;
  list(): Promise<CheckpointSummary[]>;
  delete(runId: string): Promise<void>;
}

/** A store that lives as long as the object (tests; a browser without IndexedDB). */
export function memoryCheckpointStore(): CheckpointStore {
  const records = new Map<string, CheckpointRecord>();
  return {
    put: async (record) => {
      records.set(record.summary.runId, structuredClone(record));
    },
    get: async (runId) => {
      const record = records.get(runId);
      return record ? structuredClone(record) : undefined;
    },
    list: async () => [...records.values()].map((r) => r.summary).sort((a, b) => b.savedAt - a.savedAt),
    delete: async (runId) => {
      records.delete(runId);
    },
  };
}
