/**
 * Node only (imports node:fs): a checkpoint directory on disk as a FileSource, and writing a
 * checkpoint's files into a directory. The browser bundle must not import this file.
 */
import { mkdir, open, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../errors';
import { missingFile, type FileSource } from './fileSource';

async function listFiles(root: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(join(root, prefix), { withFileTypes: true });
  const nested = await Promise.all(
    entries.map(async (e) => {
      const path = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) return e.name.startsWith('.') ? [] : listFiles(root, path); // skip .git, .cache
      return e.isFile() ? [path] : [];
    }),
  );
  return nested.flat();
}

/** A directory as a FileSource. Files are listed once; reads go to disk each time, by slice. */
export async function nodeDirectorySource(dir: string): Promise<FileSource> {
  const root = resolve(dir);
  const info = await stat(root).catch(() => null);
  if (!info) throw new UserError('missing-file', 'directory not found', dir);
  if (!info.isDirectory())
    throw new UserError('bad-argument', 'is not a directory (expected a checkpoint directory)', dir);
  const files = new Set(await listFiles(root));

  const pathOf = (path: string): string => {
    if (!files.has(path)) throw missingFile(source, path);
    return join(root, path);
  };
  const source: FileSource = {
    name: basename(root),
    list: () => [...files],
    has: (path) => files.has(path),
    size: async (path) => (await stat(pathOf(path))).size,
    text: (path) => readFile(pathOf(path), 'utf8'),
    bytes: async (path) => new Uint8Array(await readFile(pathOf(path))),
    async slice(path, offset, length) {
      const handle = await open(pathOf(path), 'r');
      try {
        const out = new Uint8Array(length);
        let filled = 0;
        while (filled < length) {
          const { bytesRead } = await handle.read(out, filled, length - filled, offset + filled);
          if (bytesRead === 0) break;
          filled += bytesRead;
        }
        return filled === length ? out : out.subarray(0, filled);
      } finally {
        await handle.close();
      }
    },
  };
  return source;
}

/** Writes files (paths relative to dir, '/'-separated) into dir, creating folders as needed. */
export async function writeFilesToDirectory(dir: string, files: ReadonlyMap<string, Uint8Array>): Promise<void> {
  for (const [path, bytes] of files) {
    const target = join(dir, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, bytes);
  }
}
