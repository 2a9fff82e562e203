// Fuzzing the safetensors reader (whole-file and sliced): well-formed files with structured
// malformations (bad offsets, shapes, dtypes, header lengths; truncation; invalid UTF-8; deep
// JSON; prototype keys; NaN/Infinity) and random bytes. Every outcome is a file that reads back
// consistently or a UserError; no allocation is sized by the header beyond the file's own bytes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_HEADER_BYTES,
  bytesSource,
  openSafetensors,
  parseSafetensors,
  writeSafetensors,
  type ByteSource,
  type TensorEntry,
} from '../../src/core/io/safetensors';
import {
  Tally,
  assembleSafetensors,
  byteOp,
  duplicateFirstKey,
  jsonOp,
  mutateBytes,
  mutateJson,
  preview,
  runOne,
  runOneAsync,
  splitSafetensors,
} from './harness';

const DTYPES = ['F32', 'F16', 'BF16', 'I32', 'I64'] as const;
const NAMES = ['model.embed_tokens.weight', 'a', '__proto__', 'constructor', 'toString', 'é', 'a"b', ' ', 'x.y.z'];

const tensorEntry = fc.record({
  dtype: fc.constantFrom(...DTYPES),
  shape: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
  seed: fc.integer(),
});

/** A valid file of up to 4 tensors with unique names, optional metadata. */
const validFile = fc
  .record({
    tensors: fc.uniqueArray(fc.tuple(fc.constantFrom(...NAMES), tensorEntry), { maxLength: 4, selector: ([n]) => n }),
    metadata: fc.option(
      fc.dictionary(fc.constantFrom('format', '__proto__', 'constructor', 'x'), fc.string({ maxLength: 6 })),
      { nil: undefined },
    ),
  })
  .map(({ tensors, metadata }) => {
    const entries: TensorEntry[] = tensors.map(([name, { dtype, shape, seed }]) => {
      const n = shape.reduce((a, d) => a * d, 1);
      const isFloat = dtype === 'F32' || dtype === 'F16' || dtype === 'BF16';
      const data = isFloat
        ? Float32Array.from({ length: n }, (_, i) => Math.sin(seed + i) * 100)
        : Int32Array.from({ length: n }, (_, i) => (seed * 7919 + i * 104729) | 0);
      return { name, dtype, shape, data };
    });
    return writeSafetensors(entries, metadata ? { ...metadata } : undefined);
  });

/** Headers that declare tensors far larger than the file: must be refused before allocation. */
const hugeDeclared = fc.constantFrom(
  '{"t":{"dtype":"F32","shape":[1125899906842624],"data_offsets":[0,4503599627370496]}}', // 2^50 elements
  '{"t":{"dtype":"F32","shape":[33554432,33554432],"data_offsets":[0,4]}}',
  '{"t":{"dtype":"F32","shape":[4294967296],"data_offsets":[0,17179869184]}}',
  '{"t":{"dtype":"I64","shape":[1e400],"data_offsets":[0,8]}}',
  '{"t":{"dtype":"F16","shape":[2,-1],"data_offsets":[0,4]}}',
  '{"t":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}',
  '{"t":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}',
  '{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}',
  '{"t":{"dtype":"F32","shape":[0,9007199254740993],"data_offsets":[0,0]}}',
  '{"t":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}',
  '{"t":{"dtype":"BOOL","shape":[8],"data_offsets":[0,8]}}',
  '{"t":{"dtype":"U64","shape":[1],"data_offsets":[0,8]}}',
  '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}',
  '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
  '{"__metadata__":{"format":1},"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}',
  '{"__metadata__":[],"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}',
  '{"t":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}',
  '[]',
  'null',
  '"x"',
  '{}',
  '{"t":null}',
  '{"t":{"dtype":"F32","shape":[[[[[]]]]],"data_offsets":[0,8]}}',
);

type Case = { bytes: Uint8Array; sizeLie: number };

const malformed: fc.Arbitrary<Case> = fc
  .oneof(
    // Header JSON mutations in front of the original data section.
    fc.tuple(validFile, fc.array(jsonOp, { minLength: 1, maxLength: 3 })).map(([file, ops]) => {
      const { header, data } = splitSafetensors(file);
      return assembleSafetensors(mutateJson(header, ops), data);
    }),
    fc.tuple(validFile, fc.integer({ min: -8, max: 8 })).map(([file, extra]) => {
      const { header, data } = splitSafetensors(file);
      const resized =
        extra >= 0
          ? Uint8Array.from([...data, ...new Uint8Array(extra)])
          : data.subarray(0, Math.max(0, data.length + extra));
      return assembleSafetensors(header, resized);
    }),
    validFile.map((file) => {
      const { header, data } = splitSafetensors(file);
      return assembleSafetensors(duplicateFirstKey(header), data);
    }),
    // The declared header length: zero, tiny, off by a few, past the file, above the cap, 2^50, 2^64-1.
    fc
      .tuple(
        validFile,
        fc.oneof(
          fc.constantFrom(0, 1, 7, MAX_HEADER_BYTES + 1, 2 ** 50, 2 ** 53, 2 ** 64 - 1),
          fc.integer({ min: -16, max: 16 }).map((d) => -d - 1),
        ),
      )
      .map(([file, len]) => {
        const { header, data } = splitSafetensors(file);
        const declared = len < 0 ? Math.max(0, new TextEncoder().encode(header).length + len + 1) : len;
        return assembleSafetensors(header, data, declared);
      }),
    // Byte-level damage anywhere, or only in the header's JSON (prefix intact).
    fc
      .tuple(validFile, fc.array(byteOp, { minLength: 1, maxLength: 3 }), fc.boolean())
      .map(([file, ops, keepPrefix]) => ops.reduce((b, op) => mutateBytes(b, op, keepPrefix ? 8 : 0), file)),
    // Hand-written hostile headers with a small data section.
    fc
      .tuple(hugeDeclared, fc.uint8Array({ minLength: 0, maxLength: 16 }))
      .map(([header, data]) => assembleSafetensors(header, data)),
    // Random bytes, and random bytes behind a plausible length prefix.
    fc.uint8Array({ maxLength: 128 }),
    fc
      .tuple(fc.uint8Array({ maxLength: 96 }), fc.nat({ max: 100 }))
      .map(([b, n]) => assembleSafetensors(b, new Uint8Array(0), n)),
  )
  .chain((bytes) =>
    fc.record({
      bytes: fc.constant(bytes),
      sizeLie: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, fc.integer({ min: -4, max: 64 })),
    }),
  );

/** Reads everything the file declares and checks the values match the declared shapes. */
function readAll(file: ReturnType<typeof parseSafetensors>): void {
  for (const info of file.tensors.values()) {
    const values = file.read(info.name);
    expect(values.length).toBe(info.shape.reduce((a, d) => a * d, 1));
  }
}

/** A source whose size may lie: reads return only the bytes that exist. */
function lyingSource(bytes: Uint8Array, sizeLie: number): ByteSource {
  if (sizeLie === 0) return bytesSource(bytes);
  return {
    size: Math.max(0, bytes.length + sizeLie),
    read: async (offset, length) => bytes.slice(offset, offset + length),
  };
}

describe('safetensors reader under malformed input', () => {
  it('the allocation spy sees allocations inside the reader (so its silence below means something)', () => {
    const tally = new Tally('spy self-check');
    const file = writeSafetensors([{ name: 'w', dtype: 'F16', shape: [1000], data: new Float32Array(1000) }]);
    runOne(
      tally,
      { maxAllocationBytes: 1 << 20 },
      () => 'f16 file',
      () => {
        parseSafetensors(file).read('w');
      },
    );
    expect(tally.largestAllocation).toBeGreaterThanOrEqual(4000); // decodeF16's Float32Array(1000)
    expect(() =>
      runOne(
        tally,
        { maxAllocationBytes: 100 },
        () => 'f16 file',
        () => {
          parseSafetensors(file).read('w');
        },
      ),
    ).toThrow(/exceeds the fuzz limit/);
  });

  it('parseSafetensors and openSafetensors accept or refuse with a UserError, allocating at most the file size', async () => {
    const whole = new Tally('parseSafetensors');
    const sliced = new Tally('openSafetensors');
    const limitFor = (bytes: Uint8Array) => ({ maxAllocationBytes: 4096 + 4 * bytes.length });
    await fc.assert(
      fc.asyncProperty(malformed, async ({ bytes, sizeLie }) => {
        const describe = () => `${preview(bytes)} (size lie ${sizeLie})`;
        runOne(whole, limitFor(bytes), describe, () => readAll(parseSafetensors(bytes, 'fuzz.safetensors')));
        await runOneAsync(sliced, limitFor(bytes), describe, async () => {
          const reader = await openSafetensors(lyingSource(bytes, sizeLie), 'fuzz.safetensors');
          for (const info of reader.tensors.values()) {
            const n = info.shape.reduce((a, d) => a * d, 1);
            expect((await reader.read(info.name)).length).toBe(n);
            if (info.shape.length > 0 && info.shape[0] > 0) {
              const half = Math.floor(info.shape[0] / 2);
              const rows =
                (await reader.readRows(info.name, 0, half)).length +
                (await reader.readRows(info.name, half, info.shape[0])).length;
              expect(rows).toBe(n);
            }
          }
        });
      }),
      { numRuns: 3000, seed: 80 },
    );
    whole.print();
    sliced.print();
    // Both kinds of outcome happen, and refusals come from several distinct checks.
    expect(whole.total).toBe(3000);
    expect(whole.count('accepted')).toBeGreaterThan(100);
    expect(whole.count('refused:bad-file')).toBeGreaterThan(1000);
    expect(whole.count('refused:unsupported')).toBeGreaterThan(0);
  });

  it('a header declaring a 2^50-element tensor is refused before any allocation', () => {
    const tally = new Tally('2^50-element header');
    const header = '{"t":{"dtype":"F32","shape":[1125899906842624],"data_offsets":[0,4503599627370496]}}';
    const outcome = runOne(
      tally,
      { maxAllocationBytes: 1024 },
      () => header,
      () => {
        parseSafetensors(assembleSafetensors(header, new Uint8Array(8)));
      },
    );
    expect(outcome).toBe('refused:bad-file');
    console.log(`2^50-element header: ${outcome}, largest allocation ${tally.largestAllocation} bytes`);
    expect(tally.largestAllocation).toBeLessThanOrEqual(1024);
  });
});
