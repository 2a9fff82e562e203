/**
 * Where adapters outlive a reload: one record per adapter, its file as the studio would download
 * it (a native S²FT .safetensors, or a PEFT LoRA zip for LoRA adapters and fusions with them).
 * The worker keeps them in IndexedDB (idbAdapterStore.ts), the only copy: the page sees summaries.
 * Tests use the in-memory store.
 */
import type { AdapterSummary } from './api';

export interface StoredAdapter {
  id: string;
  name: string;
  origin: AdapterSummary['origin'];
  fileName: string;
  bytes: ArrayBuffer;
  savedAt: number;
}

export interface AdapterStore {
  put(record: StoredAdapter): Promise<void>;
  /** Every stored adapter, oldest first. */
  list(): Promise<StoredAdapter[]>;
  delete(id: string): Promise<void>;
}

/** A store that lives as long as the object (tests; a browser without IndexedDB). */
export function memoryAdapterStore(): AdapterStore {
  const records = new Map<string, StoredAdapter>();
  return {
    put: async (record) => {
      records.set(record.id, structuredClone(record));
    },
    list: async () => [...records.values()].map((r) => structuredClone(r)).sort((a, b) => a.savedAt - b.savedAt),
    delete: async (id) => {
      records.delete(id);
    },
  };
}
