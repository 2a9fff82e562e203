// Size limits on every file a user hands the studio: each is refused with a clear message before
// its content is read (so a multi-gigabyte file never becomes a string or a buffer).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../src/core/errors';
import { MAX_JSON_BYTES, loadCheckpoint, writeCheckpoint } from '../src/core/io/checkpoint';
import { memorySource, type FileSource } from '../src/core/io/fileSource';
import { MAX_HEADER_BYTES, openSafetensors } from '../src/core/io/safetensors';
import { disposeWeights, initWeights } from '../src/core/model/init';
import { tinyConfig } from '../src/core/model/testing/tinyModels';
import { tinyTokenizerConfig, tinyTokenizerJson } from '../src/core/model/testing/tinyTokenizer';
import { MAX_ADAPTER_BYTES, decodeS2ftAdapter } from '../src/core/s2ft/adapter';
import { MAX_SELECTION_CHARS, readSelectionFile } from '../src/core/s2ft/selectionFile';
import { MAX_DATASET_CHARS, MAX_LINE_CHARS, parseDataset } from '../src/core/train/data';
import { charTokenizer } from '../src/core/train/testTokenizer';

const config = tinyConfig({
  vocabSize: 50,
  hiddenSize: 16,
  intermediateSize: 24,
  numLayers: 1,
  numHeads: 2,
  numKvHeads: 1,
  headDim: 8,
});
let files: Map<string, Uint8Array>;

beforeAll(async () => {
  await tf.setBackend('cpu');
  const weights = initWeights(config, 1);
  files = await writeCheckpoint(config, weights, {
    files: { 'tokenizer.json': tinyTokenizerJson(), 'tokenizer_config.json': tinyTokenizerConfig() },
  });
  disposeWeights(weights);
});

function refusal(f: () => unknown): UserError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return e as UserError;
  }
  throw new Error('accepted');
}
async function asyncRefusal(f: () => Promise<unknown>): Promise<UserError> {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return e as UserError;
  }
  throw new Error('accepted');
}

/** The checkpoint with one file claiming `size` bytes; reading that file's content fails the test. */
function oversized(path: string, size: number, dir: Map<string, Uint8Array> = files): FileSource {
  const inner = memorySource('big-model', dir);
  const untouchable = (p: string) => {
    if (p === path) throw new Error(`${p} was read despite its size`);
  };
  return {
    ...inner,
    size: async (p) => (p === path ? size : inner.size(p)),
    text: async (p) => {
      untouchable(p);
      return inner.text(p);
    },
    bytes: async (p) => {
      untouchable(p);
      return inner.bytes(p);
    },
    slice: async (p, o, l) => {
      untouchable(p);
      return inner.slice(p, o, l);
    },
  };
}

describe('size limits', () => {
  it.each(['config.json', 'tokenizer.json', 'tokenizer_config.json'])(
    '%s over its limit is refused unread',
    async (path) => {
      const limit = MAX_JSON_BYTES[path];
      const e = await asyncRefusal(() => loadCheckpoint(oversized(path, limit + 1)));
      console.log(`${path}: ${e.message}`);
      expect(e.code).toBe('too-large');
      expect(e.message).toContain(`big-model/${path}`);
      expect(e.message).toContain(`over the ${limit / 2 ** 20} MiB limit`);
    },
  );

  it('a loaded checkpoint at the limits still loads (the limits do not refuse real files)', async () => {
    const loaded = await loadCheckpoint(memorySource('model', files));
    expect(loaded.tokenizerJson).not.toBeNull();
    disposeWeights(loaded.weights);
    expect(MAX_JSON_BYTES['config.json']).toBeGreaterThan(100 * files.get('config.json')!.length);
  });

  it('the shard index over its limit is refused unread', async () => {
    const weights = initWeights(config, 2);
    const sharded = await writeCheckpoint(config, weights, { maxShardBytes: 2048 });
    disposeWeights(weights);
    const e = await asyncRefusal(() =>
      loadCheckpoint(
        oversized('model.safetensors.index.json', MAX_JSON_BYTES['model.safetensors.index.json'] + 1, sharded),
      ),
    );
    console.log(`index: ${e.message}`);
    expect(e.code).toBe('too-large');
  });

  it('a safetensors header over the cap is refused after reading only the 8-byte prefix', async () => {
    const prefix = new Uint8Array(8);
    new DataView(prefix.buffer).setUint32(0, MAX_HEADER_BYTES + 1, true);
    let read = 0;
    const source = {
      size: 2 ** 40,
      read: async (offset: number, length: number) => {
        read += length;
        return offset === 0 ? prefix.slice(0, length) : new Uint8Array(length);
      },
    };
    const e = await asyncRefusal(() => openSafetensors(source, 'huge.safetensors'));
    console.log(`safetensors header: ${e.message} (read ${read} bytes)`);
    expect(e.message).toMatch(/exceeds the 100000000-byte limit/);
    expect(read).toBe(8);
  });

  it('an adapter file over its limit is refused before parsing', () => {
    const huge = { length: MAX_ADAPTER_BYTES + 1 } as unknown as Uint8Array; // only .length is read before the check
    const e = refusal(() => decodeS2ftAdapter(huge, 'huge-adapter.safetensors'));
    console.log(`adapter: ${e.message}`);
    expect(e.code).toBe('too-large');
    expect(e.message).toMatch(/^huge-adapter\.safetensors: adapter file is 1073741825 bytes, over the 1024 MiB limit/);
  });

  it('a selection file over its limit is refused before parsing', () => {
    const huge = { length: MAX_SELECTION_CHARS + 1 } as unknown as string;
    const e = refusal(() => readSelectionFile(huge, config, 'huge-selection.json'));
    console.log(`selection: ${e.message}`);
    expect(e.code).toBe('too-large');
    expect(e.message).toContain('huge-selection.json');
  });

  it('a dataset over its limit, and a line over its limit, are refused with their sizes', () => {
    const huge = { length: MAX_DATASET_CHARS + 1 } as unknown as string;
    const e = refusal(() => parseDataset(huge, 'huge.jsonl', { tokenizer: charTokenizer() }));
    console.log(`dataset: ${e.message}`);
    expect(e.code).toBe('too-large');
    const long = `{"text":"${'a'.repeat(MAX_LINE_CHARS)}"}\n{"text":"ok"}`;
    const parsed = parseDataset(long, 'long.jsonl', { tokenizer: charTokenizer() });
    console.log(`dataset line: ${parsed.errors[0].message.slice(0, 120)}`);
    expect(parsed.errors[0].message).toMatch(/^line 1: line has 1,000,011 characters, over the limit of 1,000,000/);
    expect(parsed.examples).toHaveLength(1);
  });
});
