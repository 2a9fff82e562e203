/** Minimal flag parser for the CLI: `--name value`, `--flag` (boolean), repeatable flags. */
import { UserError } from '../../core/errors';

export interface ParsedArgs {
  command: string | null;
  flags: Map<string, string[]>;
  positional: string[];
}

export function parseArgs(argv: string[], booleanFlags: ReadonlySet<string>): ParsedArgs {
  const flags = new Map<string, string[]>();
  const positional: string[] = [];
  let command: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      if (command === null) command = arg;
      else positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    let value: string;
    if (eq > 0) value = arg.slice(eq + 1);
    else if (booleanFlags.has(name)) value = 'true';
    else {
      if (i + 1 >= argv.length) throw new UserError('bad-argument', `--${name} needs a value`);
      value = argv[++i];
    }
    flags.set(name, [...(flags.get(name) ?? []), value]);
  }
  return { command, flags, positional };
}

/** Typed access to parsed flags, with messages that name the flag. */
export class Flags {
  private readonly used = new Set<string>();
  constructor(private readonly flags: Map<string, string[]>) {}

  has(name: string): boolean {
    this.used.add(name);
    return this.flags.has(name);
  }

  string(name: string): string | undefined {
    this.used.add(name);
    const values = this.flags.get(name);
    return values ? values[values.length - 1] : undefined;
  }

  requireString(name: string): string {
    const v = this.string(name);
    if (v === undefined) throw new UserError('bad-argument', `missing required flag --${name}`);
    return v;
  }

  all(name: string): string[] {
    this.used.add(name);
    return this.flags.get(name) ?? [];
  }

  number(name: string, fallback: number, check?: { min?: number; max?: number; integer?: boolean }): number {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    const v = Number(raw);
    const bad =
      !Number.isFinite(v) ||
      (check?.integer && !Number.isInteger(v)) ||
      (check?.min !== undefined && v < check.min) ||
      (check?.max !== undefined && v > check.max);
    if (bad) {
      const range = [
        check?.integer ? 'an integer' : 'a number',
        check?.min !== undefined ? `≥ ${check.min}` : '',
        check?.max !== undefined ? `≤ ${check.max}` : '',
      ]
        .filter(Boolean)
        .join(' ');
      throw new UserError('bad-argument', `--${name} must be ${range}, got "${raw}"`);
    }
    return v;
  }

  boolean(name: string): boolean {
    return this.string(name) === 'true';
  }

  /** Comma-separated integers, e.g. `--prompt-ids 1,2,3`. */
  intList(name: string): number[] | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const parts = raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    const values = parts.map(Number);
    if (values.length === 0 || values.some((v) => !Number.isInteger(v)))
      throw new UserError('bad-argument', `--${name} must be a comma-separated list of integers, got "${raw}"`);
    return values;
  }

  /** Flags given on the command line that the command never asked about. */
  unknown(): string[] {
    return [...this.flags.keys()].filter((k) => !this.used.has(k));
  }
}
