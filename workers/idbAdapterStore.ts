/**
 * Adapters in IndexedDB, written from the worker (adapterStore.ts):
 *   database "s2ft-studio-adapters" (its own, like the checkpoints'), object store "adapters", key = id.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { AdapterStore, StoredAdapter } from './adapterStore';

const DB_NAME = 's2ft-studio-adapters';
const STORE = 'adapters';

interface AdaptersDb extends DBSchema {
  adapters: { key: string; value: StoredAdapter };
}

export function idbAdapterStore(): AdapterStore {
  let db: Promise<IDBPDatabase<AdaptersDb>> | null = null;
  const open = () =>
    (db ??= openDB<AdaptersDb>(DB_NAME, 1, {
      upgrade(database) {
        database.createObjectStore(STORE, { keyPath: 'id' });
      },
    }));
  return {
    async put(record) {
      await (await open()).put(STORE, record);
    },
    async list() {
      const all = await (await open()).getAll(STORE);
      return all.sort((a, b) => a.savedAt - b.savedAt);
    },
    async delete(id) {
      await (await open()).delete(STORE, id);
    },
  };
}
