// Fuzzing the checkpoint loader over in-memory directories: a valid tiny checkpoint (single file
// and sharded) with one or two files damaged: config.json with hostile fields or broken text,
// safetensors headers and bytes, the shard index, tokenizer files, files removed. Every outcome is
// a loaded model or a UserError, and a refused load leaves no tensor behind.
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { disposeWeights, initWeights } from '../../src/core/model/init';
import { tinyConfig } from '../../src/core/model/testing/tinyModels';
import { tinyTokenizerConfig, tinyTokenizerJson } from '../../src/core/model/testing/tinyTokenizer';
import { loadCheckpoint, writeCheckpoint, type LoadOptions } from '../../src/core/io/checkpoint';
import { memorySource } from '../../src/core/io/fileSource';
import {
  Tally,
  assembleSafetensors,
  byteOp,
  duplicateFirstKey,
  hostileValue,
  jsonOp,
  mutateBytes,
  mutateJson,
  preview,
  runOneAsync,
  serialize,
  splitSafetensors,
} from './harness';

const config = tinyConfig({
  vocabSize: 50,
  hiddenSize: 16,
  intermediateSize: 24,
  numLayers: 1,
  numHeads: 2,
  numKvHeads: 1,
  headDim: 8,
});
const extras = { 'tokenizer.json': tinyTokenizerJson(), 'tokenizer_config.json': tinyTokenizerConfig() };
let single: Map<string, Uint8Array>;
let sharded: Map<string, Uint8Array>;

beforeAll(async () => {
  await tf.setBackend('cpu');
  const weights = initWeights(config, 3);
  single = await writeCheckpoint(config, weights, { files: extras });
  sharded = await writeCheckpoint(config, weights, { files: extras, maxShardBytes: 2048 });
  disposeWeights(weights);
});

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const bytes = (s: string) => new TextEncoder().encode(s);

type Damage = (files: Map<string, Uint8Array>) => void;

/** Pick the n-th file whose name matches. */
function pick(files: Map<string, Uint8Array>, n: number, match: (p: string) => boolean): string | undefined {
  const paths = [...files.keys()].filter(match).sort();
  return paths.length === 0 ? undefined : paths[n % paths.length];
}

const isJson = (p: string) => p.endsWith('.json');
const isWeights = (p: string) => p.endsWith('.safetensors');

const damage: fc.Arbitrary<Damage> = fc.oneof(
  // A config.json field set to a hostile value, e.g. num_hidden_layers 2^40 or 1e400.
  fc
    .tuple(
      fc.constantFrom(
        'num_hidden_layers',
        'vocab_size',
        'hidden_size',
        'head_dim',
        'intermediate_size',
        'num_attention_heads',
        'tie_word_embeddings',
        'model_type',
        'rope_scaling',
        'max_position_embeddings',
        '__proto__',
      ),
      fc.oneof(hostileValue, fc.constantFrom(2 ** 40, 2 ** 52, 2, 3, 1000, 100_000)),
    )
    .map(([field, value]): Damage => (files) => {
      const json = JSON.parse(text(files.get('config.json')!)) as Record<string, unknown>;
      Object.defineProperty(json, field, { value, enumerable: true, writable: true, configurable: true });
      files.set('config.json', bytes(serialize(json)));
    }),
  // Structured edits of any JSON file (config, index, tokenizer files).
  fc.tuple(fc.nat(), fc.array(jsonOp, { minLength: 1, maxLength: 3 })).map(([n, ops]): Damage => (files) => {
    const path = pick(files, n, isJson);
    if (path) files.set(path, bytes(mutateJson(text(files.get(path)!), ops)));
  }),
  fc.nat().map((n): Damage => (files) => {
    const path = pick(files, n, isJson);
    if (path) files.set(path, bytes(duplicateFirstKey(text(files.get(path)!))));
  }),
  // A safetensors header edited, or any file's bytes damaged (truncated, flipped, invalid UTF-8).
  fc.tuple(fc.nat(), fc.array(jsonOp, { minLength: 1, maxLength: 2 })).map(([n, ops]): Damage => (files) => {
    const path = pick(files, n, isWeights);
    if (!path) return;
    const { header, data } = splitSafetensors(files.get(path)!);
    files.set(path, assembleSafetensors(mutateJson(header, ops), data));
  }),
  fc.tuple(fc.nat(), fc.array(byteOp, { minLength: 1, maxLength: 2 })).map(([n, ops]): Damage => (files) => {
    const path = pick(files, n, () => true)!;
    files.set(
      path,
      ops.reduce((b, op) => mutateBytes(b, op), files.get(path)!),
    );
  }),
  // A file removed, or a stray PyTorch file in place of the weights.
  fc.nat().map((n): Damage => (files) => {
    files.delete(pick(files, n, () => true)!);
  }),
  fc.constant<Damage>((files) => {
    for (const p of [...files.keys()]) if (isWeights(p) || p.endsWith('index.json')) files.delete(p);
    files.set('pytorch_model.bin', new Uint8Array(16));
  }),
  // An oversized config.json (over its 1 MiB limit; the other limits are checked in limits.test.ts).
  fc.constant<Damage>((files) => {
    files.set('config.json', new Uint8Array(2 ** 20 + 1).fill(0x20));
  }),
);

const options: fc.Arbitrary<LoadOptions> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({}) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<LoadOptions>(
      { memoryLimitBytes: 10_000 },
      { maxBufferBytes: 256 },
      { maxBufferBytes: 40 },
    ),
  },
);

describe('checkpoint loader under malformed directories', () => {
  it('loads or refuses with a UserError, and a refused load leaves no tensors', async () => {
    const tally = new Tally('loadCheckpoint');
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(damage, { minLength: 1, maxLength: 2 }),
        options,
        async (useShards, damages, opts) => {
          const files = new Map(useShards ? sharded : single);
          for (const d of damages) {
            try {
              d(files);
            } catch {
              /* this damage needs JSON an earlier one already broke */
            }
          }
          const total = [...files.values()].reduce((n, b) => n + b.length, 0);
          const before = tf.memory().numTensors;
          const describe = () => [...files].map(([p, b]) => `${p}: ${preview(b, 120)}`).join('\n');
          await runOneAsync(tally, { maxAllocationBytes: 65_536 + 4 * total }, describe, async () => {
            const loaded = await loadCheckpoint(memorySource('fuzz-model', files), opts);
            disposeWeights(loaded.weights);
          });
          expect(tf.memory().numTensors, `tensors left behind by ${describe()}`).toBe(before);
        },
      ),
      { numRuns: 800, seed: 83 },
    );
    tally.print();
    expect(tally.total).toBe(800);
    expect(tally.count('accepted')).toBeGreaterThan(50);
    expect(tally.count('refused:bad-file')).toBeGreaterThan(100);
    expect(tally.count('refused:too-large')).toBeGreaterThan(5);
  });
});
