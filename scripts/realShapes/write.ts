/**
 * Writes a test checkpoint of a real shape (shapes.ts) to disk: config.json, random BF16 weights
 * in every tensor the config implies (src/core/io/checkpointLayout.ts), as one model.safetensors
 * or shards with model.safetensors.index.json, and a synthetic tokenizer of the full vocabulary.
 * Streams tensor by tensor in 1 M-value chunks, so a 0.5 B model never sits in memory whole.
 *
 * Values: linears and embedding uniform with the config's initializer_range as standard
 * deviation (HF initialises normal; the distribution does not matter for shape tests), biases
 * the same, norm weights the identity (1; 0 for Gemma, whose RMSNorm scales by 1 + w).
 */
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkpointTensors, type TensorSpec } from '../../src/core/io/checkpointLayout';
import { encodeBf16 } from '../../src/core/io/float16';
import { parseConfig } from '../../src/core/model/config';
import { mixSeed, mulberry32 } from '../../src/core/random';
import type { RealShape } from './shapes';
import { syntheticTokenizerFiles } from './tokenizer';

const CHUNK = 1 << 20; // values per write
/** Shard size when the published checkpoint is sharded (transformers' default max_shard_size is 5 GB; smaller here). */
const SHARD_BYTES = 256 * 2 ** 20;

const sizeOf = (spec: TensorSpec) => spec.shape.reduce((n, d) => n * d, 1);

/** Groups of tensors, one per file, in canonical order. */
function groupTensors(specs: TensorSpec[], sharded: boolean): TensorSpec[][] {
  if (!sharded) return [specs];
  const groups: TensorSpec[][] = [[]];
  let bytes = 0;
  for (const spec of specs) {
    if (bytes > 0 && bytes + 2 * sizeOf(spec) > SHARD_BYTES) {
      groups.push([]);
      bytes = 0;
    }
    groups[groups.length - 1].push(spec);
    bytes += 2 * sizeOf(spec);
  }
  return groups;
}

/** One safetensors file, streamed: header, then each tensor's BF16 bytes. */
async function writeShard(path: string, specs: TensorSpec[], seed: number, std: number, norm: number): Promise<void> {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const spec of specs) {
    header[spec.name] = { dtype: 'BF16', shape: spec.shape, data_offsets: [offset, offset + 2 * sizeOf(spec)] };
    offset += 2 * sizeOf(spec);
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const prefix = new Uint8Array(8 + padded).fill(0x20, 8 + json.length); // spaces pad the JSON
  new DataView(prefix.buffer).setBigUint64(0, BigInt(padded), true);
  prefix.set(json, 8);
  const file = await open(path, 'w');
  try {
    await file.write(prefix);
    const half = std * Math.sqrt(3); // uniform(−a, a) has standard deviation a/√3
    for (const spec of specs) {
      const random = mulberry32(mixSeed(seed, ...[...spec.name].map((c) => c.charCodeAt(0))));
      const isNorm = spec.name.endsWith('norm.weight');
      const chunk = new Float32Array(CHUNK);
      for (let done = 0, n = sizeOf(spec); done < n; done += CHUNK) {
        const part = chunk.subarray(0, Math.min(CHUNK, n - done));
        for (let i = 0; i < part.length; i++) part[i] = isNorm ? norm : (2 * random() - 1) * half;
        await file.write(encodeBf16(part));
      }
    }
  } finally {
    await file.close();
  }
}

/** Writes the checkpoint directory `dir` (replacing it) and returns its path. */
export async function writeRealShape(shape: RealShape, dir: string, seed = 0): Promise<string> {
  const config = parseConfig(shape.config, `${shape.name}/config.json`);
  const std = typeof shape.config.initializer_range === 'number' ? shape.config.initializer_range : 0.02;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const groups = groupTensors(checkpointTensors(config), shape.sharded);
  const pad = (n: number) => String(n).padStart(5, '0');
  const names =
    groups.length === 1
      ? ['model.safetensors']
      : groups.map((_, i) => `model-${pad(i + 1)}-of-${pad(groups.length)}.safetensors`);
  for (let i = 0; i < groups.length; i++)
    await writeShard(join(dir, names[i]), groups[i], seed, std, config.modelType === 'gemma3_text' ? 0 : 1);
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  if (groups.length > 1) {
    const weightMap = Object.fromEntries(groups.flatMap((g, i) => g.map((s) => [s.name, names[i]])));
    const totalSize = groups.flat().reduce((n, s) => n + 2 * sizeOf(s), 0);
    await writeFile(
      join(dir, 'model.safetensors.index.json'),
      json({ metadata: { total_size: totalSize }, weight_map: weightMap }),
    );
  }
  await writeFile(join(dir, 'config.json'), json(shape.config));
  const tokenizer = syntheticTokenizerFiles(config.vocabSize, config.maxPositionEmbeddings);
  for (const [file, content] of Object.entries(tokenizer)) await writeFile(join(dir, file), json(content));
  return dir;
}
