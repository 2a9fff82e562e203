/**
 * The safetensors format (huggingface/safetensors), read and written with strict validation.
 *
 *   [8 bytes: header length N, little-endian u64][N bytes: UTF-8 JSON header][data section]
 *
 * The header maps each tensor name to {dtype, shape, data_offsets: [begin, end]} (byte offsets
 * into the data section) plus an optional "__metadata__" map of strings. Every number in the
 * header is checked before it sizes anything, because the file may come from anywhere. Tensors
 * must tile the data section exactly: no overlaps, no gaps, no duplicate names.
 *
 * F32, F16 and BF16 tensors read as Float32Array (upcast), I32 and I64 as Int32Array (I64 values
 * must fit int32). Other dtypes of the format are recognised and refused when read. Byte order is
 * little-endian, as on every host the studio runs on (x86, ARM).
 */
import { describeJson } from '../describeJson';
import { UserError } from '../errors';
import { decodeBf16, decodeF16, encodeBf16, encodeF16 } from './float16';
import { findDuplicateKey } from './jsonKeys';

/** Bytes per element of the dtypes the format defines (the sub-byte float formats aside). */
const DTYPE_BYTES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
} as const;

export type SafetensorsDtype = keyof typeof DTYPE_BYTES;
/** The dtypes the studio reads and writes. */
export type TensorDtype = 'F32' | 'F16' | 'BF16' | 'I32' | 'I64';

/** The reference implementation's limit: a header larger than this is refused unread. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number; // byte offset into the data section
  end: number; // exclusive
}

export interface SafetensorsHeader {
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
}

/** A whole file in memory. */
export interface SafetensorsFile extends SafetensorsHeader {
  read(name: string): Float32Array | Int32Array;
}

/** Random access to a file's bytes (a Node file handle, a browser File, an HTTP range, a buffer). */
export interface ByteSource {
  size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** A file read through a ByteSource: the header up front, each tensor by its own slice. */
export interface SafetensorsReader extends SafetensorsHeader {
  read(name: string): Promise<Float32Array | Int32Array>;
  /** Rows [rowStart, rowEnd) of a tensor's first axis, reading only their bytes. */
  readRows(name: string, rowStart: number, rowEnd: number): Promise<Float32Array | Int32Array>;
}

export interface TensorEntry {
  name: string;
  dtype: TensorDtype;
  shape: number[];
  data: Float32Array | Int32Array; // Float32Array for F32/F16/BF16, Int32Array for I32/I64
}

const METADATA_KEY = '__metadata__';

function badFile(label: string, message: string): UserError {
  return new UserError('bad-file', message, label);
}

/** The header length from the first 8 bytes, checked against the cap and the file size. */
export function readHeaderLength(prefix: Uint8Array, fileSize: number, label: string): number {
  if (fileSize < 8 || prefix.length < 8) {
    throw badFile(label, `file is ${fileSize} bytes, too short for the 8-byte safetensors header length`);
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const length = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32; // exact below 2^53
  if (length > MAX_HEADER_BYTES) {
    throw badFile(label, `header length ${length} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  if (8 + length > fileSize) {
    throw badFile(label, `header length ${length} runs past the end of the ${fileSize}-byte file`);
  }
  return length;
}

function describe(value: unknown): string {
  return value === undefined ? 'nothing' : describeJson(value);
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function parseMetadata(value: unknown, label: string): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badFile(label, `${METADATA_KEY} must be an object of strings, got ${describe(value)}`);
  }
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string') {
      throw badFile(label, `${METADATA_KEY} "${key}" must be a string, got ${describe(entry)}`);
    }
  }
  return Object.fromEntries(Object.entries(value as Record<string, string>));
}

function parseTensorEntry(name: string, value: unknown, dataSize: number, label: string): TensorInfo {
  const where = `tensor "${name}"`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badFile(label, `${where}: entry must be an object, got ${describe(value)}`);
  }
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (dtype === undefined) throw badFile(label, `${where} has no dtype`);
  if (typeof dtype !== 'string') throw badFile(label, `${where}: dtype must be a string, got ${describe(dtype)}`);
  if (!Object.hasOwn(DTYPE_BYTES, dtype)) throw badFile(label, `${where} has unknown dtype "${dtype}"`);
  if (shape === undefined) throw badFile(label, `${where} has no shape`);
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) {
    throw badFile(label, `${where}: shape must be an array of non-negative integers, got ${describe(shape)}`);
  }
  if (offsets === undefined) throw badFile(label, `${where} has no data_offsets`);
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every(isNonNegativeInteger) ||
    offsets[0] > offsets[1]
  ) {
    throw badFile(label, `${where}: data_offsets must be [begin, end] with 0 ≤ begin ≤ end, got ${describe(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataSize) {
    throw badFile(label, `${where}: data_offsets [${begin}, ${end}] lie outside the ${dataSize}-byte data section`);
  }
  const elementBytes = DTYPE_BYTES[dtype as SafetensorsDtype];
  // A product above 2^53 rounds to a float above any span, so it can never match by accident.
  const needed = shape.reduce((n: number, d: number) => n * d, 1) * elementBytes;
  if (needed !== end - begin) {
    throw badFile(
      label,
      `${where}: shape ${describe(shape)} of ${dtype} needs ${needed} bytes but data_offsets span ${end - begin}`,
    );
  }
  return { name, dtype: dtype as SafetensorsDtype, shape: [...shape] as number[], begin, end };
}

/** Tensors must tile the data section exactly, like the reference implementation demands. */
function checkCoverage(tensors: TensorInfo[], dataSize: number, label: string): void {
  const ordered = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous: TensorInfo | null = null;
  for (const t of ordered) {
    if (t.begin < cursor && previous) {
      throw badFile(
        label,
        `tensors "${previous.name}" [${previous.begin}, ${previous.end}] and "${t.name}" [${t.begin}, ${t.end}] overlap`,
      );
    }
    if (t.begin > cursor) {
      throw badFile(
        label,
        `bytes [${cursor}, ${t.begin}) of the data section belong to no tensor (gap before "${t.name}")`,
      );
    }
    cursor = t.end;
    previous = t;
  }
  if (cursor !== dataSize) {
    throw badFile(label, `bytes [${cursor}, ${dataSize}) at the end of the data section belong to no tensor`);
  }
}

/** Validates the JSON header of a file whose data section holds `dataSize` bytes. */
export function parseSafetensorsHeader(headerBytes: Uint8Array, dataSize: number, label: string): SafetensorsHeader {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw badFile(label, 'header is not valid UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw badFile(label, `header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw badFile(label, `header must be a JSON object, got ${Array.isArray(parsed) ? 'an array' : describe(parsed)}`);
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate) {
    const inside = duplicate.path.length === 0 ? 'the header' : `"${duplicate.path.join('.')}"`;
    throw badFile(label, `key "${duplicate.key}" appears twice in ${inside}`);
  }
  let metadata: Record<string, string> = {};
  const tensors = new Map<string, TensorInfo>();
  for (const [name, value] of Object.entries(parsed)) {
    if (name === METADATA_KEY) metadata = parseMetadata(value, label);
    else tensors.set(name, parseTensorEntry(name, value, dataSize, label));
  }
  checkCoverage([...tensors.values()], dataSize, label);
  return { tensors, metadata };
}

/** The bytes as an ArrayBuffer-aligned array: viewed when this array owns its buffer, else copied. */
function owned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

function narrowI64(info: TensorInfo, bytes: Uint8Array, label: string): Int32Array {
  const words = new Int32Array(owned(bytes).buffer); // [lo, hi] pairs
  const out = new Int32Array(words.length / 2);
  for (let i = 0; i < out.length; i++) {
    const lo = words[2 * i];
    const hi = words[2 * i + 1];
    if (hi !== lo >> 31) {
      const value = (BigInt(hi) << 32n) | BigInt(lo >>> 0);
      throw new UserError(
        'unsupported',
        `tensor "${info.name}" (I64) holds ${value} at index ${i}, outside the int32 range`,
        label,
      );
    }
    out[i] = lo;
  }
  return out;
}

/** Decodes one tensor's bytes (exactly its span) into float32 or int32 values. */
export function decodeTensor(info: TensorInfo, bytes: Uint8Array, label: string): Float32Array | Int32Array {
  switch (info.dtype) {
    case 'F32':
      return new Float32Array(owned(bytes).buffer);
    case 'F16':
      return decodeF16(bytes);
    case 'BF16':
      return decodeBf16(bytes);
    case 'I32':
      return new Int32Array(owned(bytes).buffer);
    case 'I64':
      return narrowI64(info, bytes, label);
    default:
      throw new UserError('unsupported', `unsupported dtype ${info.dtype} for tensor "${info.name}"`, label);
  }
}

function lookup(header: SafetensorsHeader, name: string, label: string): TensorInfo {
  const info = header.tensors.get(name);
  if (!info) throw badFile(label, `no tensor named "${name}"`);
  return info;
}

/** Parses a whole file held in memory. */
export function parseSafetensors(bytes: Uint8Array, label = 'safetensors file'): SafetensorsFile {
  const headerLength = readHeaderLength(bytes, bytes.length, label);
  const dataStart = 8 + headerLength;
  const header = parseSafetensorsHeader(bytes.subarray(8, dataStart), bytes.length - dataStart, label);
  return {
    ...header,
    read(name) {
      const info = lookup(header, name, label);
      return decodeTensor(info, bytes.subarray(dataStart + info.begin, dataStart + info.end), label);
    },
  };
}

async function readExactly(source: ByteSource, offset: number, length: number, label: string): Promise<Uint8Array> {
  const bytes = await source.read(offset, length);
  if (bytes.length !== length) {
    throw badFile(
      label,
      `read ${bytes.length} bytes at offset ${offset} where ${length} were expected (file truncated?)`,
    );
  }
  return bytes;
}

/** Opens a file by reading only its header; tensors are read later, each by its own slice. */
export async function openSafetensors(source: ByteSource, label: string): Promise<SafetensorsReader> {
  const prefix = source.size < 8 ? new Uint8Array(0) : await readExactly(source, 0, 8, label);
  const headerLength = readHeaderLength(prefix, source.size, label);
  const dataStart = 8 + headerLength;
  const headerBytes = await readExactly(source, 8, headerLength, label);
  const header = parseSafetensorsHeader(headerBytes, source.size - dataStart, label);
  return {
    ...header,
    async read(name) {
      const info = lookup(header, name, label);
      return decodeTensor(info, await readExactly(source, dataStart + info.begin, info.end - info.begin, label), label);
    },
    async readRows(name, rowStart, rowEnd) {
      const info = lookup(header, name, label);
      const rows = info.shape[0];
      if (info.shape.length === 0 || !(0 <= rowStart && rowStart <= rowEnd && rowEnd <= rows)) {
        throw new RangeError(`rows [${rowStart}, ${rowEnd}) outside tensor "${name}" of shape [${info.shape}]`);
      }
      const rowBytes = rows === 0 ? 0 : (info.end - info.begin) / rows;
      const begin = info.begin + rowStart * rowBytes;
      const end = info.begin + rowEnd * rowBytes;
      const part: TensorInfo = { ...info, shape: [rowEnd - rowStart, ...info.shape.slice(1)], begin, end };
      return decodeTensor(part, await readExactly(source, dataStart + begin, end - begin, label), label);
    },
  };
}

/** A ByteSource over bytes already in memory. */
export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read: async (offset, length) => bytes.subarray(offset, offset + length),
  };
}

function encodeEntry(entry: TensorEntry): Uint8Array {
  const { name, dtype, shape, data } = entry;
  const count = shape.reduce((n, d) => n * d, 1);
  if (!shape.every(isNonNegativeInteger) || data.length !== count) {
    throw new Error(`tensor "${name}": ${data.length} values do not fill shape [${shape}]`);
  }
  const isFloat = dtype === 'F32' || dtype === 'F16' || dtype === 'BF16';
  if (isFloat !== data instanceof Float32Array) {
    throw new Error(`tensor "${name}": ${dtype} needs ${isFloat ? 'a Float32Array' : 'an Int32Array'}`);
  }
  switch (dtype) {
    case 'F16':
      return encodeF16(data as Float32Array);
    case 'BF16':
      return encodeBf16(data as Float32Array);
    case 'I64': {
      const words = new Int32Array(2 * data.length); // [lo, hi] pairs, sign-extended
      for (let i = 0; i < data.length; i++) {
        words[2 * i] = data[i];
        words[2 * i + 1] = data[i] >> 31;
      }
      return new Uint8Array(words.buffer);
    }
    default:
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
}

/**
 * Writes a safetensors file. Like the reference writer, tensors are ordered by element size
 * (largest first) then name, and the header is padded with spaces to a multiple of 8 bytes, so
 * every tensor starts aligned to its element size.
 */
export function writeSafetensors(entries: TensorEntry[], metadata?: Record<string, string>): Uint8Array {
  const names = new Set<string>();
  for (const { name } of entries) {
    if (names.has(name) || name === METADATA_KEY) throw new Error(`tensor name "${name}" is duplicated or reserved`);
    names.add(name);
  }
  const ordered = [...entries].sort(
    (a, b) => DTYPE_BYTES[b.dtype] - DTYPE_BYTES[a.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  const encoded = ordered.map(encodeEntry);

  const header = Object.create(null) as Record<string, unknown>; // no prototype: any name is a plain key
  if (metadata) header[METADATA_KEY] = { ...metadata };
  let offset = 0;
  ordered.forEach((entry, i) => {
    header[entry.name] = { dtype: entry.dtype, shape: entry.shape, data_offsets: [offset, offset + encoded[i].length] };
    offset += encoded[i].length;
  });
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil((8 + json.length) / 8) * 8 - 8;

  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength, true);
  view.setUint32(4, 0, true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength); // spaces: still valid JSON
  let at = 8 + headerLength;
  for (const bytes of encoded) {
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}
