/**
 * What outlives a reload, in IndexedDB (via idb): finished runs (summary and curves) and the
 * adapters the studio made or imported (their native S²FT file bytes, re-imported into the worker
 * when a model they fit is loaded). The worker keeps its own checkpoints in the "s2ft-studio"
 * database; this page uses a database of its own so the two never race over schema upgrades.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { RunRecord } from './store';

export interface StoredAdapter {
  id: string;
  name: string;
  fileName: string;
  /** The native S²FT adapter file. */
  bytes: ArrayBuffer;
  savedAt: number;
}

interface StudioDb extends DBSchema {
  runs: { key: string; value: RunRecord };
  adapters: { key: string; value: StoredAdapter };
}

const DB_NAME = 's2ft-studio-ui';

let opened: Promise<IDBPDatabase<StudioDb>> | null = null;

function db(): Promise<IDBPDatabase<StudioDb>> {
  opened ??= openDB<StudioDb>(DB_NAME, 1, {
    upgrade(database) {
      database.createObjectStore('runs', { keyPath: 'summary.runId' });
      database.createObjectStore('adapters', { keyPath: 'id' });
    },
  });
  return opened;
}

export async function saveRun(run: RunRecord): Promise<void> {
  await (await db()).put('runs', run);
}

export async function loadRuns(): Promise<RunRecord[]> {
  const runs = await (await db()).getAll('runs');
  return runs.sort((a, b) => a.savedAt - b.savedAt);
}

export async function deleteRun(runId: string): Promise<void> {
  await (await db()).delete('runs', runId);
}

export async function saveAdapter(adapter: StoredAdapter): Promise<void> {
  await (await db()).put('adapters', adapter);
}

export async function loadAdapters(): Promise<StoredAdapter[]> {
  const adapters = await (await db()).getAll('adapters');
  return adapters.sort((a, b) => a.savedAt - b.savedAt);
}

export async function deleteAdapter(id: string): Promise<void> {
  await (await db()).delete('adapters', id);
}
