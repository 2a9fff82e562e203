/**
 * What the recipe's tests share: the python that has torch, running commands and CLI commands, studio
 * checkpoints and data, and comparing adapters. Without a python that imports torch, `python` is null and
 * every recipe suite skips, saying why.
 */
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { Flags, parseArgs } from '../../src/cli/lib/args';
import { writeCheckpoint } from '../../src/core/io/checkpoint';
import { writeFilesToDirectory } from '../../src/core/io/nodeFiles';
import { disposeWeights, initWeights } from '../../src/core/model/init';
import type { ModelConfig } from '../../src/core/model/types';
import { decodeS2ftAdapter, type S2ftAdapter } from '../../src/core/s2ft/adapter';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A python that imports torch: $PYTHON, python3 on PATH, or Debian's /usr/bin/python3. */
function findPython(): string | null {
  const candidates = [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
  return (
    candidates.find(
      (py) => spawnSync(py, ['-c', 'import torch, torch.distributed.run'], { stdio: 'ignore' }).status === 0,
    ) ?? null
  );
}

export const python = findPython();
if (!python) {
  console.log(
    'recipe tests SKIPPED: no python3 with torch found ($PYTHON, python3, /usr/bin/python3); ' +
      "install Debian's python3-torch (apt-get install -y python3-torch) to run them",
  );
}

/** A free TCP port on this machine (torchrun's default ports collide with any other run). */
export function freePort(): string {
  return spawnSync(
    process.execPath,
    [
      '-e',
      'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();})',
    ],
    { encoding: 'utf8' },
  ).stdout.trim();
}

/**
 * `torchrun --nproc_per_node 2` through the python that has torch, on a free port. `-r 1 -t 1` (stdout to a
 * log, tee'd back) works around Debian 12's torch 1.13 on Python 3.11, whose torchrun fails with
 * "'NoneType' object has no attribute 'get'" at the default `-r 0 -t 0`.
 */
export function torchrun2(): string[] {
  return ['-m', 'torch.distributed.run', '-r', '1', '-t', '1', '--master_port', freePort(), '--nproc_per_node', '2'];
}

/**
 * A bin folder whose `python3` and `torchrun` are the python that has torch, for commands written as a
 * person types them (recipe/README.md). Returns the folder.
 */
export function pythonBin(dir: string): string {
  mkdirSync(dir, { recursive: true });
  symlinkSync(python as string, path.join(dir, 'python3'));
  writeFileSync(path.join(dir, 'torchrun'), `#!/bin/sh\nexec ${python} -m torch.distributed.run "$@"\n`);
  chmodSync(path.join(dir, 'torchrun'), 0o755);
  return dir;
}

/** Runs a command to its end; throws with its output when it fails. */
export function sh(
  cmd: string,
  args: string[],
  cwd = ROOT,
  env: Record<string, string> = {},
  options: { timeoutMs?: number; cleanEnv?: boolean } = {},
): string {
  const r = spawnSync(cmd, args, {
    cwd,
    env: options.cleanEnv ? env : { ...process.env, ...env },
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 120_000,
    // stdin from /dev/null: on a socket (node's default pipe) bash thinks sshd started it and reads bashrc.
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${out}`);
  return out;
}

/** Like sh, without blocking: for processes that must run at the same time (two torchrun launchers). */
export function shAsync(
  cmd: string,
  args: string[],
  options: SpawnOptions & { timeoutMs: number },
): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    // The whole process group: the launcher and the workers it started.
    const timer = setTimeout(() => child.pid && process.kill(-child.pid, 'SIGKILL'), options.timeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, out });
    });
  });
}

/** Runs a CLI command module in-process, as `npm run cli -- <command> ...` would. */
export async function cli(command: 'export-recipe' | 'train', argv: string[]): Promise<Record<string, unknown>> {
  const mod = (await import(`../../src/cli/commands/${command}.ts`)) as {
    run: (ctx: unknown) => Promise<Record<string, unknown>>;
  };
  const flags = new Flags(parseArgs(argv, new Set(['json'])).flags);
  return mod.run({ flags, json: true, log: () => {} });
}

/** Writes a random-weight checkpoint with the studio's writer; returns its directory. */
export async function studioCheckpoint(dir: string, config: ModelConfig, seed: number): Promise<string> {
  const weights = initWeights(config, seed, { std: 0.1 });
  await writeFilesToDirectory(dir, await writeCheckpoint(config, weights));
  disposeWeights(weights);
  return dir;
}

export function writeRows(file: string, rows: number[][]): void {
  writeFileSync(file, rows.map((r) => JSON.stringify({ input_ids: r })).join('\n') + '\n');
}

export const readAdapter = (file: string) => decodeS2ftAdapter(new Uint8Array(readFileSync(file)), file);

/** max |a − b| / max |b| over all blocks of two adapters with the same layout. */
export function relDiff(a: S2ftAdapter, b: S2ftAdapter): number {
  expect(a.blocks.map((x) => `${x.layer}.${x.module}:${Array.from(x.indices)}`)).toEqual(
    b.blocks.map((x) => `${x.layer}.${x.module}:${Array.from(x.indices)}`),
  );
  let diff = 0,
    scale = 0;
  a.blocks.forEach((blk, i) =>
    blk.delta.forEach((v, j) => {
      diff = Math.max(diff, Math.abs(v - b.blocks[i].delta[j]));
      scale = Math.max(scale, Math.abs(b.blocks[i].delta[j]));
    }),
  );
  expect(scale).toBeGreaterThan(0);
  return diff / scale;
}

/** The fenced blocks of a markdown file whose info string is `bash test:<tag>`, in order. */
export function testedBlocks(file: string, tag: 'studio' | 'training' | 'node'): string[] {
  const text = readFileSync(file, 'utf8');
  const blocks = [...text.matchAll(/^```bash test:(\w+)\n([\s\S]*?)^```$/gm)].filter((m) => m[1] === tag);
  return blocks.map((m) => m[2]);
}

/** Runs a README block as a person pastes it into bash (stopping at the first failing command). */
export function runBlock(block: string, cwd: string, env: Record<string, string>, cleanEnv = false): string {
  return sh('bash', ['-euo', 'pipefail', '-c', block], cwd, env, { timeoutMs: 240_000, cleanEnv });
}
