// Fuzzing the PEFT LoRA loaders (decodeAdapterFolder, decodeAdapterFile for zips, and the fit
// check adapterBlocks): a valid adapter_config.json with structured mutations and hostile values
// in every key it reads (regexes included: RE2 keeps them linear), broken weight tensors, damaged
// bytes of the weights and of a zip, and random bytes. Each input is accepted or refused with a
// UserError; an accepted one yields blocks of exactly its linears' shapes.
import fc from 'fast-check';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { tinyConfig } from '../../src/core/model/testing/tinyModels';
import {
  adapterBlocks,
  decodeAdapterFile,
  decodeAdapterFolder,
  type DecodedAdapter,
} from '../../src/core/peft/anyAdapter';
import { handPairs, handPeftFiles } from '../../src/core/peft/testing/handPeft';
import { linearShape } from '../../src/core/model/init';
import { Tally, byteOp, hostileValue, jsonOp, mutateBytes, mutateJson, preview, runOne } from './harness';

const config = tinyConfig(); // D 32, F 48, H 4, Hkv 2, hd 8, 2 layers
const BASE = { name: 'tiny-base', fingerprint: 'xxh64:0123456789abcdef' };
const pairs = handPairs(
  [
    { key: 'model.layers.0.self_attn.q_proj', rank: 2, inDim: 32, outDim: 32 },
    { key: 'model.layers.1.self_attn.q_proj', rank: 2, inDim: 32, outDim: 32 },
    { key: 'model.layers.0.mlp.down_proj', rank: 3, inDim: 48, outDim: 32 },
    { key: 'model.layers.1.mlp.down_proj', rank: 3, inDim: 48, outDim: 32 },
  ],
  3,
);
const validConfig = {
  r: 2,
  lora_alpha: 4,
  target_modules: ['q_proj', 'down_proj'],
  rank_pattern: { down_proj: 3 },
  alpha_pattern: {},
  layers_to_transform: null,
  layers_pattern: null,
  use_rslora: false,
  fan_in_fan_out: false,
  bias: 'none',
  use_dora: false,
  modules_to_save: null,
  lora_dropout: 0,
  init_lora_weights: true,
};
const valid = handPeftFiles(validConfig, pairs);
const configText = new TextDecoder().decode(valid.config);
const KEYS = [
  ...Object.keys(validConfig),
  'exclude_modules',
  'peft_type',
  'task_type',
  'lora_bias',
  'layer_replication',
];
/** Regexes that take exponential time on a backtracking engine. */
const CATASTROPHIC = ['(a+)+b', '(.*)*x', '(.*.*)*q_proj!', '((model|model.layers)+.)+z', '(x+x+)+y', '(?=a)'];

const withWeights = (weights: Uint8Array, cfg = valid.config) =>
  new Map([
    ['adapter_config.json', cfg],
    ['adapter_model.safetensors', weights],
  ]);

type Input = { kind: 'folder'; files: Map<string, Uint8Array> } | { kind: 'file'; bytes: Uint8Array };

const encoder = new TextEncoder();
const malformed: fc.Arbitrary<Input> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.array(jsonOp, { minLength: 1, maxLength: 3 }).map((ops) => ({
      kind: 'folder' as const,
      files: withWeights(valid.weights, encoder.encode(mutateJson(configText, ops))),
    })),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom(...KEYS), fc.oneof(hostileValue, fc.constantFrom(...CATASTROPHIC)))
      .map(([key, value]) => ({
        kind: 'folder' as const,
        files: withWeights(
          valid.weights,
          encoder.encode(JSON.stringify({ peft_type: 'LORA', ...validConfig, [key]: value })),
        ),
      })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        drop: fc.nat({ max: pairs.length - 1 }),
        rank: fc.integer({ min: 1, max: 5 }),
        key: fc.constantFrom(
          'model.layers.5.self_attn.q_proj',
          'model.layers.0.self_attn.k_proj',
          'model.embed_tokens',
          'lm_head',
        ),
        dtype: fc.constantFrom('F32' as const, 'F16' as const, 'BF16' as const),
      })
      .map(({ drop, rank, key, dtype }) => {
        const changed = pairs.filter((_, i) => i !== drop);
        changed.push(...handPairs([{ key, rank, inDim: 32, outDim: 32 }], 9));
        return { kind: 'folder' as const, files: withWeights(handPeftFiles(validConfig, changed, dtype).weights) };
      }),
  },
  {
    weight: 2,
    arbitrary: fc.array(byteOp, { minLength: 1, maxLength: 3 }).map((ops) => ({
      kind: 'folder' as const,
      files: withWeights(ops.reduce((b: Uint8Array, op) => mutateBytes(b, op), valid.weights)),
    })),
  },
  {
    weight: 2,
    arbitrary: fc.array(byteOp, { minLength: 1, maxLength: 3 }).map((ops) => ({
      kind: 'file' as const,
      bytes: ops.reduce(
        (b: Uint8Array, op) => mutateBytes(b, op, 4),
        zipSync({ 'a/adapter_config.json': valid.config, 'a/adapter_model.safetensors': valid.weights }),
      ),
    })),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 128 }).map((bytes) => ({ kind: 'file' as const, bytes })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'folder' as const, files: withWeights(valid.weights) }) },
);

describe('PEFT LoRA loaders under malformed input', () => {
  it('decode or refuse with a UserError; what decodes fits the model or is refused; blocks have the linear shapes', () => {
    const decode = new Tally('decodeAdapterFolder/File (PEFT)');
    const fit = new Tally('adapterBlocks (PEFT)');
    fc.assert(
      fc.property(malformed, (input) => {
        let decoded: DecodedAdapter | null = null;
        const size =
          input.kind === 'file' ? input.bytes.length : [...input.files.values()].reduce((n, b) => n + b.length, 0);
        // 1 MiB covers the one-time 65536-entry half-precision table (io/float16.ts).
        const limits = { maxAllocationBytes: (1 << 20) + 8 * size, maxMs: 2000 };
        const describeInput = () =>
          input.kind === 'file'
            ? preview(input.bytes)
            : preview(new TextDecoder().decode(input.files.get('adapter_config.json')));
        runOne(decode, limits, describeInput, () => {
          decoded =
            input.kind === 'file'
              ? decodeAdapterFile(input.bytes, 'fuzz.zip')
              : decodeAdapterFolder(input.files, 'fuzz-adapter');
        });
        if (!decoded) return;
        const d = decoded as DecodedAdapter;
        runOne(fit, { maxAllocationBytes: 1 << 20, maxMs: 2000 }, describeInput, () => {
          const { blocks } = adapterBlocks(d, config, BASE);
          for (const b of blocks) {
            const [out, inDim] = linearShape(config, b.module);
            expect(b.shape).toEqual([out, inDim]);
            expect(b.delta.length).toBe(out * inDim);
            expect(b.delta.every(Number.isFinite)).toBe(true);
          }
        });
      }),
      { numRuns: 400, seed: 16 },
    );
    decode.print();
    fit.print();
    expect(decode.count('accepted')).toBeGreaterThan(0);
    expect(decode.count('refused:')).toBeGreaterThan(0);
    expect(fit.count('accepted')).toBeGreaterThan(0);
  });
});
