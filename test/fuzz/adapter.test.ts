// Fuzzing the native S²FT adapter loader (decodeS2ftAdapter) and the fit check against a base
// model (checkAdapterFitsModel): valid adapters with a malformed s2ft_config (every field with
// wrong types, prototype keys, NaN/Infinity, deep nesting), broken tensors (indices out of range
// or repeated, wrong dtypes and shapes, NaN deltas, foreign names), damaged bytes and random
// bytes. A decoded adapter must then fit its model or be refused naming both models.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors';
import { writeSafetensors, type TensorEntry } from '../../src/core/io/safetensors';
import { tinyConfig } from '../../src/core/model/testing/tinyModels';
import { linearWeightName, type ModelConfig } from '../../src/core/model/types';
import { checkAdapterFitsModel, decodeS2ftAdapter, encodeS2ftAdapter, moduleShape } from '../../src/core/s2ft/adapter';
import { randomAdapter } from '../../src/core/s2ft/testing/randomAdapter';
import type { AdapterBlock } from '../../src/core/s2ft/types';
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
  runOne,
  splitSafetensors,
} from './harness';

const config = tinyConfig(); // D 32, F 48, H 4, Hkv 2, hd 8, 2 layers
const selection = {
  layers: [
    { heads: [1, 3], channels: [0, 5, 17], vHeads: [1], upChannels: [2, 40] },
    { heads: [0], channels: [47] },
  ],
};
const adapter = randomAdapter(config, selection, 7);
const valid = encodeS2ftAdapter(adapter.blocks, adapter.info);
const { header: validHeader, data: validData } = splitSafetensors(valid);
const validMetadata = (JSON.parse(validHeader) as { __metadata__: Record<string, string> }).__metadata__;

const BASE = { name: 'tiny-base', fingerprint: 'fp-base' };
/** Models the decoded adapter is checked against: its own, and ones that differ in one way. */
const MODELS: { config: ModelConfig; base: { name: string; fingerprint: string } }[] = [
  { config, base: BASE },
  { config, base: { name: 'other-model', fingerprint: 'fp-other' } },
  { config: tinyConfig({ numLayers: 3 }), base: { name: 'deeper-model', fingerprint: 'fp-deeper' } },
  { config: tinyConfig({ intermediateSize: 64 }), base: { name: 'wider-model', fingerprint: 'fp-wider' } },
  { config: tinyConfig({ numKvHeads: 4 }), base: { name: 'mha-model', fingerprint: 'fp-mha' } },
];

function entriesOf(blocks: AdapterBlock[]): TensorEntry[] {
  return blocks.flatMap((b) => {
    const name = linearWeightName(b.layer, b.module);
    return [
      { name: `${name}.s2ft_delta`, dtype: 'F32' as const, shape: [...b.shape], data: b.delta.slice() },
      {
        name: `${name}.${b.axis === 'columns' ? 's2ft_columns' : 's2ft_rows'}`,
        dtype: 'I32' as const,
        shape: [b.indices.length],
        data: b.indices.slice(),
      },
    ];
  });
}

type TensorOp =
  | { kind: 'index'; pick: number; at: number; value: number }
  | { kind: 'delta'; pick: number; at: number; value: number }
  | { kind: 'dtype'; pick: number; dtype: 'F32' | 'F16' | 'BF16' | 'I32' | 'I64' }
  | { kind: 'shape'; pick: number; shape: number[] }
  | { kind: 'rename'; pick: number; name: string }
  | { kind: 'drop'; pick: number };

const tensorOp: fc.Arbitrary<TensorOp> = fc.oneof(
  fc.record({
    kind: fc.constant('index' as const),
    pick: fc.nat(),
    at: fc.nat(),
    value: fc.constantFrom(-1, 0, 7, 31, 32, 47, 48, 2 ** 31 - 1, -(2 ** 31)),
  }),
  fc.record({
    kind: fc.constant('delta' as const),
    pick: fc.nat(),
    at: fc.nat(),
    value: fc.constantFrom(NaN, Infinity, -Infinity, 3.4e38, 0),
  }),
  fc.record({
    kind: fc.constant('dtype' as const),
    pick: fc.nat(),
    dtype: fc.constantFrom('F32' as const, 'F16' as const, 'BF16' as const, 'I32' as const, 'I64' as const),
  }),
  fc.record({
    kind: fc.constant('shape' as const),
    pick: fc.nat(),
    shape: fc.array(fc.integer({ min: 0, max: 64 }), { maxLength: 3 }),
  }),
  fc.record({
    kind: fc.constant('rename' as const),
    pick: fc.nat(),
    name: fc.constantFrom(
      'model.layers.9.mlp.down_proj.s2ft_delta',
      'model.layers.0001.mlp.down_proj.s2ft_delta',
      'model.layers.0.self_attn.down_proj.s2ft_columns',
      'model.layers.0.mlp.down_proj.s2ft_rows',
      'model.layers.1.self_attn.v_proj.s2ft_columns',
      'model.layers.99999999999999999999.mlp.up_proj.s2ft_rows',
      'model.layers.0.mlp.gate_proj.s2ft_delta',
      '__proto__',
      'constructor',
      'lm_head.weight',
    ),
  }),
  fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }),
);

/** Re-encodes the adapter's tensors after changes that keep the file itself well-formed. */
function withTensorOps(ops: TensorOp[]): Uint8Array {
  const entries = entriesOf(adapter.blocks);
  for (const op of ops) {
    if (entries.length === 0) break;
    const e = entries[op.pick % entries.length];
    switch (op.kind) {
      case 'index':
        if (e.data instanceof Int32Array && e.data.length > 0) e.data[op.at % e.data.length] = op.value;
        break;
      case 'delta':
        if (e.data instanceof Float32Array && e.data.length > 0) e.data[op.at % e.data.length] = op.value;
        break;
      case 'dtype': {
        const float = op.dtype === 'F32' || op.dtype === 'F16' || op.dtype === 'BF16';
        e.dtype = op.dtype;
        e.data = float
          ? Float32Array.from(e.data)
          : Int32Array.from(e.data, (x) => (Number.isFinite(x) ? Math.trunc(x) : 0));
        break;
      }
      case 'shape': {
        const n = op.shape.reduce((a, d) => a * d, 1);
        e.shape = op.shape;
        e.data = e.data instanceof Float32Array ? new Float32Array(n) : Int32Array.from({ length: n }, (_, i) => i);
        break;
      }
      case 'rename':
        if (!entries.some((x) => x.name === op.name)) e.name = op.name;
        break;
      case 'drop':
        entries.splice(op.pick % entries.length, 1);
        break;
    }
  }
  return writeSafetensors(entries, { ...validMetadata });
}

/** The valid file with its s2ft_config (or the whole metadata) replaced. */
function withMetadata(metadata: Record<string, unknown>): Uint8Array {
  const header = JSON.parse(validHeader) as Record<string, unknown>;
  Object.defineProperty(header, '__metadata__', {
    value: metadata,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return assembleSafetensors(JSON.stringify(header), validData);
}

const malformed: fc.Arbitrary<Uint8Array> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .array(jsonOp, { minLength: 1, maxLength: 3 })
      .map((ops) => withMetadata({ ...validMetadata, s2ft_config: mutateJson(validMetadata.s2ft_config, ops) })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        'NaN',
        '{',
        '',
        '[]',
        'null',
        '"S2FT"',
        duplicateFirstKey(validMetadata.s2ft_config),
        validMetadata.s2ft_config.replace('"num_layers":2', '"num_layers":1e400'),
        validMetadata.s2ft_config.replace('"num_layers":2', '"num_layers":NaN'),
        validMetadata.s2ft_config.replace('"num_layers":2', '"num_layers":9007199254740993'),
        validMetadata.s2ft_config.replace('"hidden_size":32', '"hidden_size":1e300'),
      )
      .map((text) => withMetadata({ ...validMetadata, s2ft_config: text })),
  },
  {
    weight: 1,
    arbitrary: fc.record({ format: hostileValue, s2ft_config: hostileValue }, { requiredKeys: [] }).map(withMetadata),
  },
  { weight: 3, arbitrary: fc.array(tensorOp, { minLength: 1, maxLength: 3 }).map(withTensorOps) },
  {
    weight: 2,
    arbitrary: fc
      .array(jsonOp, { minLength: 1, maxLength: 2 })
      .map((ops) => assembleSafetensors(mutateJson(validHeader, ops), validData)),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.array(byteOp, { minLength: 1, maxLength: 3 }), fc.boolean())
      .map(([ops, keepPrefix]) => ops.reduce((b, op) => mutateBytes(b, op, keepPrefix ? 8 : 0), valid)),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 128 }) },
  { weight: 1, arbitrary: fc.constant(valid) },
);

/** What decoding promises: every block can be fused into a model of the recorded dimensions. */
function checkDecoded(a: ReturnType<typeof decodeS2ftAdapter>): void {
  for (const v of Object.values(a.info.dims)) expect(Number.isSafeInteger(v) && v > 0).toBe(true);
  for (const b of a.blocks) {
    expect(b.layer).toBeLessThan(a.info.dims.numLayers);
    const limit = moduleShape(a.info.dims, b.module)[b.axis === 'columns' ? 1 : 0];
    expect(new Set(b.indices).size).toBe(b.indices.length);
    expect(b.indices.every((j) => j >= 0 && j < limit)).toBe(true);
    expect(b.delta.length).toBe(b.shape[0] * b.shape[1]);
    expect(b.delta.every(Number.isFinite)).toBe(true);
  }
}

describe('S²FT adapter loader under malformed input', () => {
  it('decodes or refuses with a UserError; a decoded adapter fits its own model and is refused by others, naming both', () => {
    const decode = new Tally('decodeS2ftAdapter');
    const fit = new Tally('checkAdapterFitsModel');
    fc.assert(
      fc.property(malformed, fc.nat({ max: MODELS.length - 1 }), (bytes, which) => {
        let decoded: ReturnType<typeof decodeS2ftAdapter> | null = null;
        const limits = { maxAllocationBytes: 4096 + 4 * bytes.length };
        runOne(
          decode,
          limits,
          () => preview(bytes),
          () => {
            decoded = decodeS2ftAdapter(bytes, 'fuzz-adapter.safetensors');
          },
        );
        if (!decoded) return;
        const model = MODELS[which];
        const a = decoded as ReturnType<typeof decodeS2ftAdapter>;
        checkDecoded(a);
        const outcome = runOne(
          fit,
          limits,
          () => `${preview(bytes)} on ${model.base.name}`,
          () => checkAdapterFitsModel(a, model.config, model.base, 'fuzz-adapter.safetensors'),
        );
        if (outcome === 'accepted') return;
        // A refusal names the adapter's model and the loaded one.
        let message = '';
        try {
          checkAdapterFitsModel(a, model.config, model.base, 'fuzz-adapter.safetensors');
        } catch (e) {
          message = (e as UserError).message;
        }
        for (const s of [a.info.baseModel.name, a.info.baseModel.fingerprint, model.base.name, model.base.fingerprint])
          expect(message).toContain(s);
        expect(['refused:wrong-model', 'refused:shape-mismatch']).toContain(outcome);
      }),
      { numRuns: 2500, seed: 81 },
    );
    decode.print();
    fit.print();
    expect(decode.total).toBe(2500);
    expect(decode.count('accepted')).toBeGreaterThan(50);
    expect(decode.count('refused:bad-file')).toBeGreaterThan(1000);
    expect(fit.count('accepted')).toBeGreaterThan(10);
    expect(fit.count('refused:wrong-model')).toBeGreaterThan(10);
    expect(fit.count('refused:shape-mismatch')).toBeGreaterThan(10);
  });
});
