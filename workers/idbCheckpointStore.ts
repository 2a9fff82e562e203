/**
 * Checkpoints in IndexedDB, written from the worker itself (IndexedDB exists in workers), so a
 * run's trainable and optimizer state never travel to the page just to be stored.
 *   database "s2ft-studio-checkpoints" (its own, so the page's databases never clash with it), object store
 *   "checkpoints", key = runId (one record per run, the latest).
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { CheckpointRecord, CheckpointStore } from './checkpoints';

const DB_NAME = 's2ft-studio-checkpoints';
const STORE = 'checkpoints';

interface StudioDb extends DBSchema {
  checkpoints: { key: string; value: CheckpointRecord };
}

export function idbCheckpointStore(): CheckpointStore {
  let db: Promise<IDBPDatabase<StudioDb>> | null = null;
  const open = () =>
    (db ??= openDB<StudioDb>(DB_NAME, 1, {
      upgrade(database) {
        database.createObjectStore(STORE, { keyPath: 'summary.runId' });
      },
    }));
  return {
    async put(record) {
      await (await open()).put(STORE, record);
    },
    async get(runId) {
      return (await open()).get(STORE, runId);
    },
    async list() {
      const all = await (await open()).getAll(STORE);
      return all.map((r) => r.summary).sort((a, b) => b.savedAt - a.savedAt);
    },
    async delete(runId) {
      await (await open()).delete(STORE, runId);
    },
  };
}
