/**
 * A checkpoint directory, wherever it lives: files the user picked in the browser, the app's own
 * public/ URLs, bytes in memory, or (src/core/io/nodeFiles.ts) a directory on disk in Node.
 * Paths are relative to the directory and use '/'. `slice` reads part of a file without reading
 * the rest, so multi-gigabyte safetensors files are never copied whole.
 */
import { UserError } from '../errors';
import type { ByteSource } from './safetensors';

export interface FileSource {
  /** A name for messages and for the model (e.g. the directory's name). */
  name: string;
  list(): string[];
  has(path: string): boolean;
  size(path: string): Promise<number>;
  text(path: string): Promise<string>;
  bytes(path: string): Promise<Uint8Array>;
  slice(path: string, offset: number, length: number): Promise<Uint8Array>;
}

export function missingFile(source: FileSource, path: string): UserError {
  return new UserError('missing-file', `${path} not found in ${source.name}`, `${source.name}/${path}`);
}

/** One file of a source as a ByteSource for openSafetensors. */
export async function fileByteSource(source: FileSource, path: string): Promise<ByteSource> {
  if (!source.has(path)) throw missingFile(source, path);
  return { size: await source.size(path), read: (offset, length) => source.slice(path, offset, length) };
}

/** Files held in memory (tests; a checkpoint just written by writeCheckpoint). */
export function memorySource(name: string, files: ReadonlyMap<string, Uint8Array>): FileSource {
  const get = (path: string): Uint8Array => {
    const bytes = files.get(path);
    if (!bytes) throw missingFile(source, path);
    return bytes;
  };
  const source: FileSource = {
    name,
    list: () => [...files.keys()],
    has: (path) => files.has(path),
    size: async (path) => get(path).length,
    text: async (path) => new TextDecoder().decode(get(path)),
    bytes: async (path) => get(path),
    slice: async (path, offset, length) => get(path).subarray(offset, offset + length),
  };
  return source;
}

/** The part of a browser File/Blob the studio uses (also present in Node 20). */
export interface BlobLike {
  size: number;
  slice(start?: number, end?: number): BlobLike;
  arrayBuffer(): Promise<ArrayBuffer>;
  text(): Promise<string>;
}

/**
 * Files the user picked: a directory picker, a multi-file input (`webkitRelativePath`) or a drop.
 * When every path starts with the same directory (the folder that was picked), it is removed and
 * becomes the source's name, so "SmolLM2-135M/config.json" is found as "config.json".
 */
export function blobSource(files: { path: string; blob: BlobLike }[], name = 'model'): FileSource {
  const paths = files.map((f) => f.path.replace(/^\/+/, ''));
  const first = paths[0]?.split('/')[0];
  const shared = paths.length > 0 && paths.every((p) => p.includes('/') && p.split('/')[0] === first);
  const byPath = new Map(files.map((f, i) => [shared ? paths[i].slice(first.length + 1) : paths[i], f.blob]));
  const source: FileSource = {
    name: shared ? first : name,
    list: () => [...byPath.keys()],
    has: (path) => byPath.has(path),
    size: async (path) => get(path).size,
    text: async (path) => get(path).text(),
    bytes: async (path) => new Uint8Array(await get(path).arrayBuffer()),
    slice: async (path, offset, length) =>
      new Uint8Array(
        await get(path)
          .slice(offset, offset + length)
          .arrayBuffer(),
      ),
  };
  const get = (path: string): BlobLike => {
    const blob = byPath.get(path);
    if (!blob) throw missingFile(source, path);
    return blob;
  };
  return source;
}

/** Files from an `<input type=file multiple webkitdirectory>` or a drop, keyed by their relative path. */
export function fileListSource(
  files: ArrayLike<BlobLike & { name: string; webkitRelativePath?: string }>,
  name?: string,
): FileSource {
  return blobSource(
    Array.from(files, (f) => ({ path: f.webkitRelativePath || f.name, blob: f })),
    name,
  );
}

/**
 * Files served over HTTP under a base URL (the app's own public/ models), named up front because
 * a server cannot list a directory. Slices use Range requests; a server that ignores Range sends
 * the whole file once, which is then kept.
 */
export function urlSource(baseUrl: string, files: string[], name: string, fetchImpl: typeof fetch = fetch): FileSource {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const whole = new Map<string, Promise<Uint8Array>>();
  const sizes = new Map<string, number>();

  const request = async (path: string, init?: RequestInit): Promise<Response> => {
    if (!files.includes(path)) throw missingFile(source, path);
    const response = await fetchImpl(base + path, init);
    if (response.status === 404) throw missingFile(source, path);
    if (!response.ok)
      throw new UserError('bad-file', `HTTP ${response.status} fetching ${base + path}`, `${name}/${path}`);
    return response;
  };
  const download = (path: string): Promise<Uint8Array> => {
    let bytes = whole.get(path);
    if (!bytes) {
      bytes = request(path).then(async (r) => new Uint8Array(await r.arrayBuffer()));
      whole.set(path, bytes);
    }
    return bytes;
  };

  const source: FileSource = {
    name,
    list: () => [...files],
    has: (path) => files.includes(path),
    async size(path) {
      const known = sizes.get(path);
      if (known !== undefined) return known;
      // A HEAD without content-length (Number(null) would read as 0) falls back to the download.
      const header = (await request(path, { method: 'HEAD' })).headers.get('content-length');
      const length = header === null ? NaN : Number(header);
      const size = Number.isSafeInteger(length) && length >= 0 ? length : (await download(path)).length;
      sizes.set(path, size);
      return size;
    },
    text: async (path) => new TextDecoder().decode(await download(path)),
    bytes: download,
    async slice(path, offset, length) {
      if (length === 0) return new Uint8Array(0);
      if (!whole.has(path)) {
        const response = await request(path, { headers: { Range: `bytes=${offset}-${offset + length - 1}` } });
        if (response.status === 206) return new Uint8Array(await response.arrayBuffer());
        whole.set(
          path,
          response.arrayBuffer().then((b) => new Uint8Array(b)),
        );
      }
      return (await download(path)).subarray(offset, offset + length);
    },
  };
  return source;
}
