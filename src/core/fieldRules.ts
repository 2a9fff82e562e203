/**
 * How a plain setting is checked when it arrives as text or JSON (a URL hash, a settings file, a
 * command-line flag, run.json): one rule per field, one message per refusal. The training config
 * (train/config.ts) and the studio's other settings (src/app/settings.ts) are tables of these.
 */

export type FieldRule =
  | { kind: 'int'; min: number; max: number }
  | { kind: 'number'; min: number; max: number }
  | { kind: 'bool' }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'string'; maxLength: number };

export const int = (min: number, max: number): FieldRule => ({ kind: 'int', min, max });
export const num = (min: number, max: number): FieldRule => ({ kind: 'number', min, max });
export const bool: FieldRule = { kind: 'bool' };
export const oneOf = (values: readonly string[]): FieldRule => ({ kind: 'enum', values });
export const text = (maxLength: number): FieldRule => ({ kind: 'string', maxLength });

export type ParsedField = { ok: true; value: number | string | boolean } | { ok: false; reason: string };

/** Checks one raw value (a string from a URL or a flag, or a JSON value) against its rule. */
export function parseField(name: string, rule: FieldRule, raw: unknown): ParsedField {
  const refuse = (expected: string): ParsedField => ({
    ok: false,
    reason: `${name} must be ${expected}, got ${JSON.stringify(raw)}`,
  });
  switch (rule.kind) {
    case 'bool':
      if (raw === true || raw === '1' || raw === 'true') return { ok: true, value: true };
      if (raw === false || raw === '0' || raw === 'false') return { ok: true, value: false };
      return refuse('true or false');
    case 'enum':
      return typeof raw === 'string' && rule.values.includes(raw)
        ? { ok: true, value: raw }
        : refuse(`one of ${rule.values.join(', ')}`);
    case 'string':
      return typeof raw === 'string' && raw.length <= rule.maxLength
        ? { ok: true, value: raw }
        : refuse(`a string of at most ${rule.maxLength} characters`);
    case 'int':
    case 'number': {
      const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(value)) return refuse('a number');
      if (rule.kind === 'int' && !Number.isInteger(value)) return refuse('a whole number');
      if (value < rule.min || value > rule.max) return refuse(`from ${rule.min} to ${rule.max}`);
      return { ok: true, value };
    }
  }
}
