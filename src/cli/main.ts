/**
 * `npm run cli -- <command> [flags]`: the studio's core from the command line.
 * User errors exit with status 2 and one line on stderr; anything else is a bug (status 1).
 */
import { Flags, parseArgs } from './args';
import type { CommandRun } from './command';
import { isUserError } from '../core/errors';
import { describeBackend, initNodeBackend } from './backend';

interface CommandSpec {
  summary: string;
  usage: string;
  /** Module under ./commands exporting `run: CommandRun`. */
  module: string;
}

const COMMANDS: Record<string, CommandSpec> = {
  info: { summary: 'describe a checkpoint', usage: 'info --model DIR [--json]', module: 'info' },
  generate: {
    summary: 'generate text with a model and optional adapters',
    usage:
      'generate --model DIR [--adapter PATH]... (--prompt TEXT | --prompt-ids 1,2,3) [--max-new-tokens N] [--temperature T] [--top-k K] [--top-p P] [--seed S] [--json]',
    module: 'generate',
  },
  eval: {
    summary: 'mean next-token loss and perplexity on a dataset',
    usage: 'eval --model DIR [--adapter PATH]... --data FILE [--seq-len T] [--json]',
    module: 'eval',
  },
  train: {
    summary: 'fine-tune with S²FT, LoRA or full fine-tuning and write an adapter',
    usage:
      'train --model DIR --data FILE [--method s2ft|lora|full] [--selection FILE | --strategy random|weight|activation|product|gradient [--pick large|small] --heads-per-layer N --channels-per-layer N | --match-lora-rank R] [--allocation uniform|global] [--lora-rank R] [--lora-alpha A] [--lora-dropout P] [--optimizer adamw|sgd] [--lr X] [--steps N] [--batch-size B] [--grad-accum N] [--seq-len T] [--seed S] [--grad-clip G] [--weight-decay W] [--warmup N] [--schedule linear|cosine|constant] [--eval-every N] [--val-fraction F] [--json] --out ADAPTER',
    module: 'train',
  },
  fuse: {
    summary: 'fuse adapters into the base weights and write a checkpoint',
    usage: 'fuse --model DIR --adapter PATH [--adapter PATH ...] [--weights w1,w2,...] --out DIR',
    module: 'fuse',
  },
  'export-peft': {
    summary: 'write the PEFT LoRA folder of a native S²FT adapter',
    usage: 'export-peft --adapter FILE --out DIR [--json]',
    module: 'export-peft',
  },
  'export-recipe': {
    summary: 'write a PyTorch/torchrun recipe of the same run',
    usage: 'export-recipe --model DIR --data FILE [selection and training flags] --out DIR',
    module: 'export-recipe',
  },
  bench: { summary: 'benchmarks (see bench/)', usage: 'bench', module: 'bench' },
};

const BOOLEAN_FLAGS = new Set(['json', 'help', 'quick', 'verbose']);

function helpText(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, spec]) => `  ${name.padEnd(width)}  ${spec.summary}`);
  return [
    'Usage: npm run cli -- <command> [flags]',
    '',
    'Commands:',
    ...lines,
    '',
    "Run `npm run cli -- <command> --help` for a command's flags. --verbose prints the tfjs backend on stderr.",
  ].join('\n');
}

async function loadCommand(name: string): Promise<CommandRun | null> {
  try {
    const mod = (await import(`./commands/${COMMANDS[name].module}.ts`)) as { run: CommandRun };
    return mod.run;
  } catch (e) {
    if (
      (e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' &&
      String(e).includes(`commands/${COMMANDS[name].module}`)
    )
      return null;
    throw e;
  }
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseArgs(argv, BOOLEAN_FLAGS);
  const flags = new Flags(parsed.flags);
  if (parsed.command === null || parsed.command === 'help') {
    console.log(helpText());
    return parsed.command === null && !flags.has('help') ? 2 : 0;
  }
  const spec = COMMANDS[parsed.command];
  if (!spec) {
    console.error(`error: unknown command "${parsed.command}". Commands: ${Object.keys(COMMANDS).join(', ')}`);
    return 2;
  }
  if (flags.has('help')) {
    console.log(`Usage: npm run cli -- ${spec.usage}`);
    return 0;
  }
  const run = await loadCommand(parsed.command);
  if (!run) {
    console.error(`error: "${parsed.command}" is not built yet in this version of the studio.`);
    return 2;
  }
  if (flags.boolean('verbose')) {
    await initNodeBackend();
    console.error(`backend: tfjs ${await describeBackend()}`);
  }
  const json = flags.boolean('json');
  const log = json ? (line: string) => console.error(line) : (line: string) => console.log(line);
  const result = await run({ flags, json, log });
  const unknown = flags.unknown();
  if (unknown.length > 0) log(`warning: ignored unknown flag(s): ${unknown.map((f) => `--${f}`).join(' ')}`);
  if (json) console.log(JSON.stringify(result));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (isUserError(e)) {
      console.error(`error: ${e.message}`);
      process.exit(2);
    }
    console.error(e);
    process.exit(1);
  },
);
