import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { UserError } from '../errors';
import {
  type ByteSource,
  type TensorEntry,
  bytesSource,
  openSafetensors,
  parseSafetensors,
  writeSafetensors,
} from './safetensors';

const LABEL = 'bad.safetensors';

/** A file from a header text and a zero-filled data section, with an optional forged length field. */
function fileWith(headerText: string | Uint8Array, dataBytes: number, forgedLength?: number): Uint8Array {
  const header = typeof headerText === 'string' ? new TextEncoder().encode(headerText) : headerText;
  const out = new Uint8Array(8 + header.length + dataBytes);
  const view = new DataView(out.buffer);
  const length = forgedLength ?? header.length;
  view.setUint32(0, length % 2 ** 32, true);
  view.setUint32(4, Math.floor(length / 2 ** 32), true);
  out.set(header, 8);
  return out;
}

const t = (dtype: string, shape: unknown, offsets: unknown) => ({ dtype, shape, data_offsets: offsets });
const json = (o: unknown) => JSON.stringify(o);

function thrown(f: () => unknown): UserError {
  try {
    f();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('expected a UserError');
}

describe('safetensors round trip', () => {
  const entries: TensorEntry[] = [
    { name: 'w.f32', dtype: 'F32', shape: [2, 3], data: new Float32Array([1, -2.5, 3e-8, 0, 1e30, -0]) },
    { name: 'w.f16', dtype: 'F16', shape: [3], data: new Float32Array([0.5, -65504, 0.333251953125]) },
    { name: 'w.bf16', dtype: 'BF16', shape: [2, 1], data: new Float32Array([3.140625, -1]) },
    { name: 'ids.i32', dtype: 'I32', shape: [4], data: new Int32Array([0, -1, 2147483647, -2147483648]) },
    { name: 'ids.i64', dtype: 'I64', shape: [2, 2], data: new Int32Array([7, -7, 2147483647, -2147483648]) },
    { name: 'scalar', dtype: 'F32', shape: [], data: new Float32Array([42]) },
    { name: 'empty', dtype: 'F32', shape: [0, 3], data: new Float32Array(0) },
  ];
  const metadata = { format: 'pt', note: 'ünïcödé' };
  const bytes = writeSafetensors(entries, metadata);

  it('reads back every dtype exactly, with metadata', () => {
    const file = parseSafetensors(bytes, 'roundtrip.safetensors');
    expect(file.metadata).toEqual(metadata);
    for (const e of entries) {
      const info = file.tensors.get(e.name)!;
      expect(info.dtype).toBe(e.dtype);
      expect(info.shape).toEqual(e.shape);
      const values = file.read(e.name);
      expect(values.constructor).toBe(e.data.constructor);
      expect(Array.from(values)).toEqual(Array.from(e.data));
    }
  });

  it('pads the header with spaces to 8 bytes and orders tensors by element size, then name', () => {
    const length = new DataView(bytes.buffer).getUint32(0, true);
    expect((8 + length) % 8).toBe(0);
    expect(bytes[8 + length - 1] === 0x20 || bytes[8 + length - 1] === 0x7d).toBe(true);
    const file = parseSafetensors(bytes);
    const byOffset = [...file.tensors.values()]
      .filter((i) => i.end > i.begin)
      .sort((a, b) => a.begin - b.begin)
      .map((i) => i.name);
    expect(byOffset).toEqual(['ids.i64', 'ids.i32', 'scalar', 'w.f32', 'w.bf16', 'w.f16']);
    for (const info of file.tensors.values()) {
      const size = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8 }[info.dtype as 'F32'];
      expect((8 + length + info.begin) % size).toBe(0);
    }
  });

  it('I64 values are sign-extended on disk', () => {
    const file = writeSafetensors([{ name: 'x', dtype: 'I64', shape: [1], data: new Int32Array([-3]) }]);
    const tail = new DataView(file.buffer, file.length - 8);
    expect(tail.getBigInt64(0, true)).toBe(-3n);
  });

  it('the sliced reader reads only the header up front, then each tensor by its own slice', async () => {
    const reads: [number, number][] = [];
    const source: ByteSource = {
      size: bytes.length,
      read: async (offset, length) => {
        reads.push([offset, length]);
        return bytes.slice(offset, offset + length);
      },
    };
    const reader = await openSafetensors(source, 'sliced.safetensors');
    const headerLength = new DataView(bytes.buffer).getUint32(0, true);
    expect(reads).toEqual([
      [0, 8],
      [8, headerLength],
    ]);
    expect(Array.from(await reader.read('w.f16'))).toEqual(Array.from(entries[1].data));
    expect(reads[2][1]).toBe(6);
    expect(Array.from(await reader.readRows('w.f32', 1, 2))).toEqual([0, 1e30, -0].map((v) => Math.fround(v)));
    expect(reads[3][1]).toBe(12);
    expect(Array.from(await reader.readRows('ids.i64', 1, 2))).toEqual([2147483647, -2147483648]);
  });

  it('a source that returns fewer bytes than asked is a truncated file', async () => {
    const source: ByteSource = { size: bytes.length, read: async (o, n) => bytes.slice(o, o + Math.min(n, 4)) };
    await expect(openSafetensors(source, LABEL)).rejects.toThrow(/read 4 bytes at offset 0 where 8 were expected/);
  });
});

describe('malformed safetensors are refused with a specific message', () => {
  const f32 = (offsets: unknown, shape: unknown = [2]) => t('F32', shape, offsets);
  // [what, file, expected message]
  const cases: [string, Uint8Array, RegExp][] = [
    ['shorter than 8 bytes', new Uint8Array(5), /file is 5 bytes, too short for the 8-byte safetensors header length/],
    [
      'header length above the cap',
      fileWith('{}', 0, 200_000_000),
      /header length 200000000 exceeds the 100000000-byte limit/,
    ],
    [
      'header length in the high word',
      fileWith('{}', 0, 2 ** 40),
      /header length 1099511627776 exceeds the 100000000-byte limit/,
    ],
    ['header length past the end', fileWith('{}', 0, 100), /header length 100 runs past the end of the 10-byte file/],
    ['header not UTF-8', fileWith(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 0), /header is not valid UTF-8/],
    ['header not JSON', fileWith('{"a": ', 0), /header is not valid JSON/],
    ['header an array', fileWith('[1, 2]', 0), /header must be a JSON object, got an array/],
    ['header a number', fileWith('42', 0), /header must be a JSON object, got 42/],
    ['entry not an object', fileWith(json({ w: 5 }), 0), /tensor "w": entry must be an object, got 5/],
    ['missing dtype', fileWith(json({ w: { shape: [2], data_offsets: [0, 8] } }), 8), /tensor "w" has no dtype/],
    [
      'dtype not a string',
      fileWith(json({ w: t(4 as unknown as string, [2], [0, 8]) }), 8),
      /tensor "w": dtype must be a string, got 4/,
    ],
    ['unknown dtype', fileWith(json({ w: t('F7', [2], [0, 8]) }), 8), /tensor "w" has unknown dtype "F7"/],
    ['missing shape', fileWith(json({ w: { dtype: 'F32', data_offsets: [0, 8] } }), 8), /tensor "w" has no shape/],
    [
      'negative dimension',
      fileWith(json({ w: f32([0, 8], [-2]) }), 8),
      /tensor "w": shape must be an array of non-negative integers, got \[-2\]/,
    ],
    [
      'fractional dimension',
      fileWith(json({ w: f32([0, 8], [1.5]) }), 8),
      /shape must be an array of non-negative integers, got \[1.5\]/,
    ],
    [
      'shape not an array',
      fileWith(json({ w: f32([0, 8], '2') }), 8),
      /shape must be an array of non-negative integers, got "2"/,
    ],
    ['missing data_offsets', fileWith(json({ w: { dtype: 'F32', shape: [2] } }), 8), /tensor "w" has no data_offsets/],
    [
      'data_offsets of one number',
      fileWith(json({ w: f32([0]) }), 8),
      /tensor "w": data_offsets must be \[begin, end\] with 0 ≤ begin ≤ end, got \[0\]/,
    ],
    [
      'data_offsets reversed',
      fileWith(json({ w: f32([8, 0]) }), 8),
      /data_offsets must be \[begin, end\] with 0 ≤ begin ≤ end, got \[8,0\]/,
    ],
    ['data_offsets negative', fileWith(json({ w: f32([-8, 0]) }), 8), /got \[-8,0\]/],
    [
      'data_offsets outside the data',
      fileWith(json({ w: f32([8, 16]) }), 8),
      /tensor "w": data_offsets \[8, 16\] lie outside the 8-byte data section/,
    ],
    [
      'shape × dtype ≠ span',
      fileWith(json({ w: f32([0, 8], [3]) }), 8),
      /tensor "w": shape \[3\] of F32 needs 12 bytes but data_offsets span 8/,
    ],
    [
      'huge shape',
      fileWith(json({ w: f32([0, 8], [2 ** 40, 2 ** 40]) }), 8),
      /needs 4\.835703278458517e\+24 bytes but data_offsets span 8/,
    ],
    [
      'overlapping tensors',
      fileWith(json({ a: f32([0, 8]), b: f32([4, 12]) }), 12),
      /tensors "a" \[0, 8\] and "b" \[4, 12\] overlap/,
    ],
    [
      'a gap between tensors',
      fileWith(json({ a: f32([0, 4], [1]), b: f32([8, 12], [1]) }), 12),
      /bytes \[4, 8\) of the data section belong to no tensor \(gap before "b"\)/,
    ],
    [
      'a gap at the start',
      fileWith(json({ b: f32([4, 12]) }), 12),
      /bytes \[0, 4\) of the data section belong to no tensor \(gap before "b"\)/,
    ],
    [
      'trailing bytes',
      fileWith(json({ a: f32([0, 4], [1]) }), 8),
      /bytes \[4, 8\) at the end of the data section belong to no tensor/,
    ],
    [
      'duplicate tensor name',
      fileWith(`{"a": ${json(f32([0, 8]))}, "a": ${json(f32([8, 16]))}}`, 16),
      /key "a" appears twice in the header/,
    ],
    [
      'duplicate name spelt with an escape',
      fileWith(`{"a": ${json(f32([0, 8]))}, "\\u0061": ${json(f32([8, 16]))}}`, 16),
      /key "a" appears twice in the header/,
    ],
    [
      'duplicate metadata key',
      fileWith('{"__metadata__": {"k": "1", "k": "2"}}', 0),
      /key "k" appears twice in "__metadata__"/,
    ],
    [
      'duplicate field in an entry',
      fileWith('{"w": {"dtype": "F32", "dtype": "F16", "shape": [2], "data_offsets": [0, 8]}}', 8),
      /key "dtype" appears twice in "w"/,
    ],
    [
      'metadata not an object',
      fileWith(json({ __metadata__: ['x'] }), 0),
      /__metadata__ must be an object of strings, got \["x"\]/,
    ],
    [
      'metadata value not a string',
      fileWith(json({ __metadata__: { format: 1 } }), 0),
      /__metadata__ "format" must be a string, got 1/,
    ],
  ];

  it.each(cases)('%s', (_what, bytes, message) => {
    const error = thrown(() => parseSafetensors(bytes, LABEL));
    expect(error.code).toBe('bad-file');
    expect(error.message.startsWith(`${LABEL}: `)).toBe(true);
    expect(error.message).toMatch(message);
  });

  it.each(cases)('%s (through the sliced reader)', async (_what, bytes, message) => {
    await expect(openSafetensors(bytesSource(bytes), LABEL)).rejects.toThrow(message);
  });

  it('other dtypes of the format parse but are refused when read', () => {
    const file = parseSafetensors(fileWith(json({ d: t('F64', [1], [0, 8]), m: t('BOOL', [2], [8, 10]) }), 10), LABEL);
    const error = thrown(() => file.read('d'));
    expect(error.code).toBe('unsupported');
    expect(error.message).toBe(`${LABEL}: unsupported dtype F64 for tensor "d"`);
    expect(() => file.read('m')).toThrow(/unsupported dtype BOOL for tensor "m"/);
  });

  it('I64 values outside int32 are refused with the value and its index', () => {
    const bytes = fileWith(json({ ids: t('I64', [2], [0, 16]) }), 16);
    new DataView(bytes.buffer).setBigInt64(bytes.length - 8, 2n ** 31n, true);
    const error = thrown(() => parseSafetensors(bytes, LABEL).read('ids'));
    expect(error.message).toMatch(/tensor "ids" \(I64\) holds 2147483648 at index 1, outside the int32 range/);
  });

  it('an unknown tensor name is refused', () => {
    expect(() => parseSafetensors(writeSafetensors([]), LABEL).read('x')).toThrow(/no tensor named "x"/);
  });

  it('random corruption of a valid file gives a UserError or a valid file, never a crash', () => {
    const valid = writeSafetensors(
      [
        { name: 'a', dtype: 'F32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
        { name: 'b', dtype: 'I64', shape: [2], data: new Int32Array([5, 6]) },
      ],
      { format: 'pt' },
    );
    let refused = 0;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (edits) => {
          const bytes = valid.slice();
          for (const [at, value] of edits) bytes[at] = value;
          try {
            const file = parseSafetensors(bytes, LABEL);
            for (const name of file.tensors.keys()) file.read(name);
          } catch (e) {
            if (!(e instanceof UserError)) throw e;
            refused++;
          }
        },
      ),
      { numRuns: 300, seed: 7 },
    );
    console.log(`safetensors fuzz: ${refused}/300 corrupted files refused with a UserError, the rest still valid`);
    expect(refused).toBeGreaterThan(0);
  });
});
