/**
 * A tiny studio for the worker tests: a 2-layer model with the tiny BPE tokenizer written as a
 * real checkpoint directory (writeCheckpoint), served as browser-like Files and over a fake
 * fetch that stands in for the app's public/ folder, plus small datasets the tokenizer covers.
 */
import { writeCheckpoint } from '../src/core/io/checkpoint';
import { disposeWeights, initWeights } from '../src/core/model/init';
import { tinyConfig } from '../src/core/model/testing/tinyModels';
import { tinyTokenizerConfig, tinyTokenizerJson } from '../src/core/model/testing/tinyTokenizer';
import type { ModelConfig } from '../src/core/model/types';
import type { TrainRequest } from '../workers/api';
import { memoryAdapterStore, type AdapterStore } from '../workers/adapterStore';
import { memoryCheckpointStore, type CheckpointStore } from '../workers/checkpoints';
import { StudioSession } from '../workers/session';

export const ORIGIN = 'http://studio.test';

/** Multi-head attention unless asked otherwise, so co-permutation applies. */
export function fixtureConfig(overrides: Partial<ModelConfig> = {}): ModelConfig {
  return tinyConfig({ numKvHeads: 4, bosTokenId: 0, eosTokenIds: [1], ...overrides });
}

/** The checkpoint directory's files (path → bytes) for a model with weights from `seed`. */
export async function checkpointFiles(config: ModelConfig, seed: number): Promise<Map<string, Uint8Array>> {
  const weights = initWeights(config, seed, { std: 0.1 });
  try {
    return await writeCheckpoint(config, weights, {
      files: { 'tokenizer.json': tinyTokenizerJson(), 'tokenizer_config.json': tinyTokenizerConfig() },
    });
  } finally {
    disposeWeights(weights);
  }
}

/** Files as a directory picker hands them over (the folder name first in webkitRelativePath). */
export function asFiles(dir: string, files: Map<string, Uint8Array>): File[] {
  return [...files].map(([path, bytes]) => {
    const file = new File([new Uint8Array(bytes)], path.split('/').pop()!);
    Object.defineProperty(file, 'webkitRelativePath', { value: `${dir}/${path}` });
    return file;
  });
}

/** Lowercase words the tiny tokenizer knows; a repetitive text a tiny model learns quickly. */
export const TRAIN_TEXT = Array.from({ length: 40 }, (_, i) =>
  i % 2 ? 'hello world hello' : 'world hello world',
).join(' ');
export const HELDOUT_TEXT = Array.from({ length: 12 }, () => 'the whale is white and the sea is deep').join(' ');
export const TASKS_JSONL = [
  '{"prompt": "hello", "completion": " world"}',
  '{"prompt": "hel", "completion": "lo world"}',
  '{"prompt": "wor", "completion": "ld hello"}',
  '{"prompt": "he", "completion": "llo"',
  '{"prompt": "world", "completion": " hello"}',
  '',
  '{"text": "hello world"}',
].join('\n');

/** A fetch over an in-memory public/ folder; 404 for anything else. */
export function fakeFetch(publicFiles: Map<string, Uint8Array | string>): typeof fetch {
  return async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url, ORIGIN);
    const body = publicFiles.get(url.pathname);
    if (body === undefined) return new Response('not found', { status: 404 });
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : new Uint8Array(body);
    // A static server answers HEAD with the length and ignores Range (urlSource copes with both).
    const headers = { 'content-length': String(bytes.length) };
    return new Response(init?.method === 'HEAD' ? null : bytes, { status: 200, headers });
  };
}

export interface Studio {
  session: StudioSession;
  store: CheckpointStore;
  publicFiles: Map<string, Uint8Array | string>;
}

/** A session whose public/ holds the model at /models/tiny/ and the datasets under /datasets/. */
export async function makeStudio(
  options: {
    seed?: number;
    store?: CheckpointStore;
    adapters?: AdapterStore;
    memoryLimitBytes?: number;
    config?: ModelConfig;
  } = {},
): Promise<Studio> {
  const files = await checkpointFiles(options.config ?? fixtureConfig(), options.seed ?? 3);
  const publicFiles = new Map<string, Uint8Array | string>();
  for (const [path, bytes] of files) publicFiles.set(`/models/tiny/${path}`, bytes);
  publicFiles.set('/datasets/train.txt', TRAIN_TEXT);
  publicFiles.set('/datasets/heldout.txt', HELDOUT_TEXT);
  publicFiles.set('/datasets/tasks.jsonl', TASKS_JSONL);
  const store = options.store ?? memoryCheckpointStore();
  const session = new StudioSession({
    fetch: fakeFetch(publicFiles),
    modelsBase: `${ORIGIN}/models/`,
    datasetsBase: `${ORIGIN}/datasets/`,
    limits: { maxBufferBytes: 2 ** 20, memoryLimitBytes: options.memoryLimitBytes ?? 2 ** 30 },
    checkpoints: store,
    adapters: options.adapters ?? memoryAdapterStore(),
    backend: () => 'cpu',
  });
  return { session, store, publicFiles };
}

export const BUILTIN_TINY = { kind: 'builtin' as const, url: `${ORIGIN}/models/tiny/`, heldout: 'heldout.txt' };

export function trainConfig(overrides: Partial<TrainRequest> = {}): TrainRequest {
  return {
    method: 's2ft',
    lr: 1e-2,
    steps: 10,
    batchSize: 4,
    seqLen: 12,
    optimizer: 'adamw',
    warmup: 0,
    schedule: 'constant',
    gradClip: 1,
    weightDecay: 0,
    evalEvery: 5,
    sampleEvery: 0,
    samplePrompts: [],
    sampleTokens: 4,
    loraRank: 2,
    loraAlpha: 4,
    loraDropout: 0,
    gradAccum: 1,
    seed: 1,
    // Past the last step: no checkpoint unless a test asks for one.
    checkpointEvery: 1_000_000,
    ...overrides,
  };
}

/** A session with the tiny model, the text dataset and a selection of 2 heads and 8 channels per layer. */
export async function readyStudio(options: Parameters<typeof makeStudio>[0] = {}): Promise<Studio> {
  const studio = await makeStudio(options);
  await studio.session.loadModel(BUILTIN_TINY);
  await studio.session.loadData({ kind: 'builtin', path: 'train.txt' }, { validationFraction: 0.2, seed: 0 });
  await studio.session.select({
    strategy: 'random',
    pick: 'large',
    budget: { kind: 'perLayer', heads: 2, channels: 8 },
    modules: { oProj: true, downProj: true, vProj: false, upProj: false },
    seed: 0,
  });
  return studio;
}
