/**
 * Checks on a JSON value read from a user's file, field by field: each takes the value and where it
 * sits (`history.steps[3].loss`) and returns it typed, or throws one UserError that names the place,
 * what was expected and what was there. Used where a whole record arrives at once (a run file,
 * src/app/runFile.ts); single settings go through fieldRules.ts.
 */
import { describeJson } from './describeJson';
import { UserError } from './errors';

export type JsonObject = Record<string, unknown>;

export class JsonShape {
  constructor(readonly file: string) {}

  fail(at: string, expected: string, value: unknown): never {
    throw new UserError('bad-file', `${at} must be ${expected}, got ${describeJson(value)}`, this.file);
  }

  object(value: unknown, at: string): JsonObject {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(at, 'an object', value);
    return value as JsonObject;
  }

  /** An array of at most `max` items; over that is 'too-large' with the stated limit. */
  array(value: unknown, at: string, max: number): unknown[] {
    if (!Array.isArray(value)) return this.fail(at, 'an array', value);
    if (value.length > max)
      throw new UserError('too-large', `${at} has ${value.length} items, over the limit of ${max}`, this.file);
    return value;
  }

  number(value: unknown, at: string): number {
    if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(at, 'a number', value);
    return value as number;
  }

  /** A whole number ≥ min. */
  int(value: unknown, at: string, min = 0): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
      this.fail(at, `a whole number ≥ ${min}`, value);
    return value as number;
  }

  string(value: unknown, at: string, maxLength: number): string {
    if (typeof value !== 'string' || value.length > maxLength)
      this.fail(at, `a string of at most ${maxLength} characters`, value);
    return value as string;
  }

  oneOf<T extends string>(value: unknown, at: string, options: readonly T[]): T {
    if (typeof value !== 'string' || !(options as readonly string[]).includes(value))
      this.fail(at, `one of ${options.join(', ')}`, value);
    return value as T;
  }

  /** `read(value)` unless the value is null. */
  nullable<T>(value: unknown, read: (v: unknown) => T): T | null {
    return value === null ? null : read(value);
  }
}
