/** What every CLI command module exports. */
import type { Flags } from './lib/args';

export interface CommandContext {
  flags: Flags;
  /** --json: print one JSON object on stdout when done (and nothing else on stdout). */
  json: boolean;
  /** Progress and human-readable output; goes to stderr when --json is set. */
  log: (line: string) => void;
}

/** A command returns the object that `--json` prints (and that it summarises otherwise). */
export type CommandRun = (ctx: CommandContext) => Promise<Record<string, unknown>>;
