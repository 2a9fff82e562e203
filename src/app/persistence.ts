/**
 * What outlives a reload, in IndexedDB (via idb): finished runs (summary and curves). The worker
 * keeps checkpoints and adapters in databases of its own (workers/idbCheckpointStore.ts,
 * idbAdapterStore.ts), so the two sides never race over schema upgrades. The "adapters" store here
 * is where studios before the worker's store kept adapters: they are moved to the worker once.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { RunRecord } from './store';

/** An adapter as an older studio kept it in this database. */
export interface LegacyAdapter {
  id: string;
  name: string;
  fileName: string;
  /** The native S²FT adapter file. */
  bytes: ArrayBuffer;
  savedAt: number;
}

interface StudioDb extends DBSchema {
  runs: { key: string; value: RunRecord };
  adapters: { key: string; value: LegacyAdapter };
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

/** Adapters an older studio kept here, oldest first. */
export async function loadLegacyAdapters(): Promise<LegacyAdapter[]> {
  const adapters = await (await db()).getAll('adapters');
  return adapters.sort((a, b) => a.savedAt - b.savedAt);
}

export async function deleteLegacyAdapter(id: string): Promise<void> {
  await (await db()).delete('adapters', id);
}
