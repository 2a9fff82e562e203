/**
 * Reading a user's file from the command line: a missing file, a folder or a file over the
 * core's size limit is refused by its size on disk, before a byte of it is read.
 */
import { readFile, stat } from 'node:fs/promises';
import { UserError } from '../../core/errors';

export async function readUserBytes(file: string, what: string, maxBytes: number): Promise<Uint8Array> {
  const info = await stat(file).catch((e: NodeJS.ErrnoException) => {
    throw new UserError(
      'missing-file',
      e.code === 'ENOENT' ? `${what} not found` : `cannot read the ${what}: ${e.code ?? e.message}`,
      file,
    );
  });
  if (!info.isFile()) throw new UserError('bad-argument', `the ${what} must be a file, not a folder`, file);
  if (info.size > maxBytes) {
    throw new UserError(
      'too-large',
      `the ${what} is ${info.size.toLocaleString('en-US')} bytes; the limit is ${maxBytes.toLocaleString('en-US')}`,
      file,
    );
  }
  return new Uint8Array(await readFile(file));
}

export async function readUserText(file: string, what: string, maxBytes: number): Promise<string> {
  return new TextDecoder().decode(await readUserBytes(file, what, maxBytes));
}
