/**
 * The old, sampled kind of fingerprint, kept so that adapters written before every weight was
 * hashed (fingerprint.ts) still find their base model:
 *
 *   sampled = FNV-1a-64( config essentials
 *                        ‖ for each tensor of checkpointTensors(config), in that order:
 *                            name ‖ shape ‖ up to 1024 float32 values at evenly spaced indices )
 *
 * Sampled value k of a tensor with n values is the one at flat index ⌊k·n/min(n,1024)⌋. It is 16
 * hex digits with no prefix; a weight between two samples does not change it.
 */
import type { ModelConfig } from '../model/types';
import { checkpointTensors } from './checkpointLayout';

export const FINGERPRINT_SAMPLES = 1024;

/** 64-bit FNV-1a, kept in two 32-bit halves so that it runs without BigInt. */
export class Fnv1a64 {
  private hi = 0xcbf29ce4;
  private lo = 0x84222325;

  update(bytes: Uint8Array): this {
    let { hi, lo } = this;
    for (let i = 0; i < bytes.length; i++) {
      lo ^= bytes[i];
      // h · (2^40 + 0x1b3) mod 2^64: the 2^40 term moves lo into hi shifted by 8.
      const low = (lo >>> 0) * 0x1b3;
      const carry = Math.floor(low / 4294967296);
      hi = (hi * 0x1b3 + carry + ((lo << 8) >>> 0)) >>> 0;
      lo = low >>> 0;
    }
    this.hi = hi;
    this.lo = lo;
    return this;
  }

  updateText(text: string): this {
    return this.update(new TextEncoder().encode(text));
  }

  hex(): string {
    return (this.hi >>> 0).toString(16).padStart(8, '0') + (this.lo >>> 0).toString(16).padStart(8, '0');
  }
}

/**
 * Collects a tensor's sampled values while its row-contiguous chunks go by, so a large embedding
 * read in pieces is never held whole just to be fingerprinted.
 */
export class ValueSampler {
  readonly samples: Float32Array;
  private seen = 0;
  private next = 0;

  constructor(private readonly total: number) {
    this.samples = new Float32Array(Math.min(total, FINGERPRINT_SAMPLES));
  }

  add(chunk: ArrayLike<number>): void {
    const count = this.samples.length;
    while (this.next < count) {
      const index = Math.floor((this.next * this.total) / count);
      if (index >= this.seen + chunk.length) break;
      this.samples[this.next++] = chunk[index - this.seen];
    }
    this.seen += chunk.length;
  }
}

/** The sampled values of a tensor given as row-contiguous chunks (one chunk if unsplit). */
export function sampleValues(chunks: ArrayLike<number>[]): Float32Array {
  const sampler = new ValueSampler(chunks.reduce((total, c) => total + c.length, 0));
  for (const chunk of chunks) sampler.add(chunk);
  return sampler.samples;
}

/** The config fields that decide the weights' layout, as both kinds of fingerprint hash them first. */
export function configEssentials(config: ModelConfig): string {
  const {
    modelType,
    vocabSize,
    hiddenSize,
    intermediateSize,
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    tieWordEmbeddings,
  } = config;
  return JSON.stringify({
    modelType,
    vocabSize,
    hiddenSize,
    intermediateSize,
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    tieWordEmbeddings,
  });
}

/** The sampled fingerprint from each tensor's samples (as sampleValues returns them), keyed by HF name. */
export function fingerprintSamples(config: ModelConfig, samples: ReadonlyMap<string, Float32Array>): string {
  const hash = new Fnv1a64();
  hash.updateText(configEssentials(config));
  for (const { name, shape } of checkpointTensors(config)) {
    const values = samples.get(name);
    if (!values) throw new Error(`fingerprint: no values for tensor "${name}"`);
    hash.updateText(`${name}[${shape.join(',')}]`);
    hash.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  return hash.hex();
}
