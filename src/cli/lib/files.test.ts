import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readUserBytes, readUserText } from './files';

describe('reading a user file from the CLI', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cli-files-'));
  const file = path.join(dir, 'data.txt');
  writeFileSync(file, 'twelve bytes');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a file within the limit', async () => {
    expect(await readUserText(file, 'dataset', 12)).toBe('twelve bytes');
  });

  it('refuses by size on disk, a missing file and a folder, each with its own message', async () => {
    await expect(readUserBytes(file, 'dataset', 11)).rejects.toMatchObject({
      code: 'too-large',
      message: `${file}: the dataset is 12 bytes; the limit is 11`,
    });
    await expect(readUserBytes(path.join(dir, 'nope'), 'adapter file', 10)).rejects.toMatchObject({
      code: 'missing-file',
      message: `${path.join(dir, 'nope')}: adapter file not found`,
    });
    await expect(readUserBytes(dir, 'selection file', 10)).rejects.toMatchObject({
      code: 'bad-argument',
      message: `${dir}: the selection file must be a file, not a folder`,
    });
  });
});
