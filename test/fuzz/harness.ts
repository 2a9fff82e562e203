/**
 * Shared fuzzing harness: run one hostile input through a loader and classify the outcome.
 *
 * The contract every loader must keep: an input is either accepted or refused with a UserError
 * whose message says something (beyond the file name). Anything else (a TypeError, a RangeError
 * from a stack overflow, an allocation sized by an unchecked header, a hang) fails the test with
 * the input that caused it. Also here: structured malformations of JSON (wrong types in a field,
 * prototype keys, NaN/Infinity, deep nesting) and of bytes (truncation, invalid UTF-8, flips).
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { isUserError } from '../../src/core/errors';

export type Outcome = 'accepted' | `refused:${string}`;

// ---------------------------------------------------------------------------------------------
// Allocation spy: typed arrays and ArrayBuffers created while a loader runs are measured, and
// any single one above the limit fails the run before the memory is taken.

const TYPED_ARRAYS = [
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
] as const;

export class AllocationTooLarge extends Error {}

interface Spy {
  limit: number;
  largest: number;
}
let active: Spy | null = null;

function requestedBytes(name: string, args: unknown[]): number {
  const first = args[0];
  if (name === 'ArrayBuffer') return typeof first === 'number' ? first : 0;
  const perElement = (globalThis as unknown as Record<string, { BYTES_PER_ELEMENT: number }>)[name].BYTES_PER_ELEMENT;
  if (typeof first === 'number') return first * perElement;
  if (first instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && first instanceof SharedArrayBuffer))
    return 0; // a view
  const length = (first as { length?: unknown } | null)?.length;
  return typeof length === 'number' ? length * perElement : 0;
}

function installSpy(): void {
  const g = globalThis as unknown as Record<string, unknown>;
  for (const name of ['ArrayBuffer', ...TYPED_ARRAYS]) {
    const original = g[name] as new (...args: unknown[]) => object;
    if ((original as { __fuzzSpy?: boolean }).__fuzzSpy) continue;
    g[name] = new Proxy(original, {
      construct(target, args, newTarget) {
        if (active) {
          const bytes = requestedBytes(name, args);
          active.largest = Math.max(active.largest, bytes);
          if (bytes > active.limit)
            throw new AllocationTooLarge(`new ${name}(${bytes} bytes) exceeds the fuzz limit of ${active.limit}`);
        }
        return Reflect.construct(target, args, newTarget === g[name] ? target : newTarget);
      },
      get(target, key, receiver) {
        if (key === '__fuzzSpy') return true;
        return Reflect.get(target, key, receiver);
      },
    });
  }
}
installSpy();

// ---------------------------------------------------------------------------------------------
// Outcome tally.

export interface RunLimits {
  /** Largest single allocation (bytes) the run may make. */
  maxAllocationBytes: number;
  /** Slowest a single input may be (ms): more is reported as a hang. */
  maxMs?: number;
}

export class Tally {
  readonly counts = new Map<Outcome, number>();
  total = 0;
  slowestMs = 0;
  slowestInput = '';
  largestAllocation = 0;

  constructor(readonly label: string) {}

  record(outcome: Outcome, ms: number, allocation: number): void {
    this.total++;
    this.counts.set(outcome, (this.counts.get(outcome) ?? 0) + 1);
    this.slowestMs = Math.max(this.slowestMs, ms);
    this.largestAllocation = Math.max(this.largestAllocation, allocation);
  }

  count(prefix: string): number {
    let n = 0;
    for (const [k, v] of this.counts) if (k.startsWith(prefix)) n += v;
    return n;
  }

  /** One line for the test log: inputs, accepted, refused by code, slowest, largest allocation. */
  print(): void {
    const refused = [...this.counts]
      .filter(([k]) => k !== 'accepted')
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k.slice('refused:'.length)} ${v}`)
      .join(', ');
    console.log(
      `fuzz ${this.label}: ${this.total} inputs, accepted ${this.counts.get('accepted') ?? 0}, ` +
        `refused {${refused}}; slowest ${this.slowestMs.toFixed(1)} ms, largest allocation ${this.largestAllocation} bytes`,
    );
  }
}

/** Fails with the input's description unless the error is a UserError with a real message. */
function classifyError(e: unknown, describe: () => string): Outcome {
  if (e instanceof AllocationTooLarge) throw new Error(`${e.message} for input ${describe()}`);
  if (!isUserError(e)) {
    const err = e as Error;
    throw new Error(`not a UserError: ${err?.name}: ${err?.message} for input ${describe()}\n${err?.stack ?? ''}`);
  }
  const text = e.file ? e.message.slice(e.file.length + 2) : e.message;
  expect(text.trim().length, `empty message for input ${describe()}`).toBeGreaterThan(0);
  return `refused:${e.code}`;
}

function finish(
  tally: Tally,
  spy: Spy,
  started: number,
  outcome: Outcome,
  limits: RunLimits,
  describe: () => string,
): Outcome {
  const ms = performance.now() - started;
  if (ms > tally.slowestMs) tally.slowestInput = describe().slice(0, 200);
  tally.record(outcome, ms, spy.largest);
  expect(ms, `input took ${ms.toFixed(0)} ms: ${describe()}`).toBeLessThan(limits.maxMs ?? 5000);
  return outcome;
}

/** Runs a synchronous loader on one input under the allocation spy and records its outcome. */
export function runOne(tally: Tally, limits: RunLimits, describe: () => string, load: () => void): Outcome {
  const spy: Spy = { limit: limits.maxAllocationBytes, largest: 0 };
  const started = performance.now();
  let outcome: Outcome = 'accepted';
  active = spy;
  try {
    load();
  } catch (e) {
    active = null;
    outcome = classifyError(e, describe);
  } finally {
    active = null;
  }
  return finish(tally, spy, started, outcome, limits, describe);
}

/** The same for an async loader (the spy stays on across its awaits; runs are sequential). */
export async function runOneAsync(
  tally: Tally,
  limits: RunLimits,
  describe: () => string,
  load: () => Promise<void>,
): Promise<Outcome> {
  const spy: Spy = { limit: limits.maxAllocationBytes, largest: 0 };
  const started = performance.now();
  let outcome: Outcome = 'accepted';
  active = spy;
  try {
    await load();
  } catch (e) {
    active = null;
    outcome = classifyError(e, describe);
  } finally {
    active = null;
  }
  return finish(tally, spy, started, outcome, limits, describe);
}

/** Short description of an input for failure messages. */
export function preview(value: string | Uint8Array, max = 300): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > max ? `${value.slice(0, max)}…(${value.length} chars)` : value);
  const head = Array.from(value.subarray(0, max), (b) => b.toString(16).padStart(2, '0')).join('');
  return `${value.length} bytes: ${head}${value.length > max ? '…' : ''}`;
}

// ---------------------------------------------------------------------------------------------
// Structured malformations of JSON. Values are placed as JS values carrying sentinel strings that
// the serializer replaces by text JSON.stringify cannot write (NaN, 1e400, 100 000-deep nesting).

const SENTINEL = '\u0000fuzz:';
const RAW: Record<string, string> = {
  nan: 'NaN',
  inf: 'Infinity',
  overflow: '1e400', // parses to Infinity
  negOverflow: '-1e400',
  underflow: '1e-400', // parses to 0
  negZero: '-0',
  deep: `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
  deepObject: `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`,
};
const raw = (name: keyof typeof RAW) => `${SENTINEL}${name}`;

/** Values of every type and the edges of every type, as a hostile field value. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom<unknown>(
      null,
      true,
      false,
      0,
      -1,
      1.5,
      -0.5,
      2 ** 31,
      2 ** 32,
      2 ** 53,
      2 ** 53 + 2,
      2 ** 64,
      1e308,
      Number.MAX_SAFE_INTEGER,
      '',
      ' ',
      'F32',
      'llama',
      's2ft',
      '__proto__',
      '\u{1F600}',
      'x'.repeat(10_000),
      [],
      {},
      [[]],
      [null],
      [-1],
      [1.5],
      [2 ** 50],
      [2 ** 25, 2 ** 25],
      [0, 2 ** 52],
      { __proto__: null, polluted: true },
    ),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      raw('nan'),
      raw('inf'),
      raw('overflow'),
      raw('negOverflow'),
      raw('underflow'),
      raw('negZero'),
      raw('deep'),
      raw('deepObject'),
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: -10, max: 100 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** Keys that reach Object.prototype or are otherwise special. */
export const hostileKey = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    'valueOf',
    '__metadata__',
    '',
    '\u0000',
    'é',
    'a"b',
  ),
  fc.string({ maxLength: 8 }),
);

export type JsonOp =
  | { kind: 'set'; pick: number; value: unknown }
  | { kind: 'delete'; pick: number }
  | { kind: 'add'; pick: number; key: string; value: unknown }
  | { kind: 'wrap'; pick: number }
  | { kind: 'protoKey'; pick: number; value: unknown };

export const jsonOp: fc.Arbitrary<JsonOp> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), pick: fc.nat(), value: hostileValue }),
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('add' as const), pick: fc.nat(), key: hostileKey, value: hostileValue }),
  fc.record({ kind: fc.constant('wrap' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('protoKey' as const), pick: fc.nat(), value: hostileValue }),
);

type Container = Record<string, unknown> | unknown[];

/** Every (container, key) slot in a JSON tree, breadth-first, capped. */
function slots(root: unknown, cap = 400): [Container, string | number][] {
  const out: [Container, string | number][] = [];
  const queue: unknown[] = [root];
  while (queue.length > 0 && out.length < cap) {
    const v = queue.shift();
    if (Array.isArray(v))
      v.forEach((x, i) => {
        out.push([v, i]);
        queue.push(x);
      });
    else if (v !== null && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        out.push([v as Container, k]);
        queue.push(x);
      }
  }
  return out;
}

function containers(root: unknown): Container[] {
  const all = [root, ...slots(root).map(([c, k]) => (c as Record<string, unknown>)[k as string])];
  return all.filter((v): v is Container => v !== null && typeof v === 'object');
}

function define(target: Container, key: string | number, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Applies structured mutations to a JSON text (parsed fresh, so "__proto__" stays an own key). */
export function mutateJson(text: string, ops: JsonOp[]): string {
  let root = JSON.parse(text) as unknown;
  for (const shared of ops) {
    // Generated values may be shared constants: copy, so no edit reaches another input or itself.
    const op =
      'value' in shared ? { ...shared, value: JSON.parse(JSON.stringify(shared.value) ?? 'null') as unknown } : shared;
    const all = slots(root);
    const boxes = containers(root);
    switch (op.kind) {
      case 'set':
        if (all.length === 0) root = op.value;
        else {
          const [c, k] = all[op.pick % all.length];
          define(c, k, op.value);
        }
        break;
      case 'delete':
        if (all.length > 0) {
          const [c, k] = all[op.pick % all.length];
          if (Array.isArray(c)) c.splice(k as number, 1);
          else delete c[k as string];
        }
        break;
      case 'add':
      case 'protoKey': {
        if (boxes.length === 0) break;
        const box = boxes[op.pick % boxes.length];
        const key = op.kind === 'protoKey' ? '__proto__' : op.key;
        if (Array.isArray(box)) box.push(op.value);
        else define(box, key, op.value);
        break;
      }
      case 'wrap':
        if (all.length === 0) root = [root];
        else {
          const [c, k] = all[op.pick % all.length];
          define(c, k, [(c as Record<string, unknown>)[k as string]]);
        }
        break;
    }
  }
  return serialize(root);
}

/** JSON.stringify, then the sentinels become their raw text. */
export function serialize(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.replace(/"\\u0000fuzz:(\w+)"/g, (_, name: string) => RAW[name]);
}

/** A JSON text with one key written twice (JSON.parse keeps the last; strict loaders refuse). */
export function duplicateFirstKey(text: string): string {
  const m = /\{\s*("(?:[^"\\]|\\.)*")\s*:/.exec(text);
  if (!m) return text;
  const at = m.index + 1;
  return `${text.slice(0, at)}${m[1]}:0,${text.slice(at)}`;
}

// ---------------------------------------------------------------------------------------------
// Byte-level malformations.

export type ByteOp =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; xor: number }
  | { kind: 'badUtf8'; at: number; bytes: number[] }
  | { kind: 'append'; bytes: Uint8Array };

const INVALID_UTF8 = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82], [0x80]];

export const byteOp: fc.Arbitrary<ByteOp> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('badUtf8' as const), at: fc.nat(), bytes: fc.constantFrom(...INVALID_UTF8) }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ maxLength: 16 }) }),
);

/** Applies a byte mutation; positions wrap around the length (`from` keeps a prefix intact). */
export function mutateBytes(bytes: Uint8Array, op: ByteOp, from = 0): Uint8Array {
  const span = Math.max(1, bytes.length - from);
  const at = from + (('at' in op ? op.at : 0) % span);
  switch (op.kind) {
    case 'truncate':
      return bytes.slice(0, at);
    case 'flip': {
      const out = bytes.slice();
      if (at < out.length) out[at] ^= op.xor;
      return out;
    }
    case 'badUtf8': {
      const out = bytes.slice();
      out.set(op.bytes.slice(0, Math.max(0, out.length - at)), at);
      return out;
    }
    case 'append': {
      const out = new Uint8Array(bytes.length + op.bytes.length);
      out.set(bytes);
      out.set(op.bytes, bytes.length);
      return out;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// safetensors assembly, so malformed headers can sit in front of real data sections.

/** [u64 header length][header][data]; `declared` overrides the length written in the prefix. */
export function assembleSafetensors(header: string | Uint8Array, data: Uint8Array, declared?: number): Uint8Array {
  const h = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const out = new Uint8Array(8 + h.length + data.length);
  const length = declared ?? h.length;
  const view = new DataView(out.buffer);
  view.setUint32(0, length % 2 ** 32, true);
  view.setUint32(4, Math.floor(length / 2 ** 32) % 2 ** 32, true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

/** Header text and data section of a well-formed safetensors file. */
export function splitSafetensors(bytes: Uint8Array): { header: string; data: Uint8Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getUint32(0, true);
  return { header: new TextDecoder().decode(bytes.subarray(8, 8 + n)), data: bytes.subarray(8 + n) };
}
