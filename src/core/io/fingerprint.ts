/**
 * A model's identity, so that an adapter can tell whether it is being applied to the weights it
 * was made for. Every value of every weight counts:
 *
 *   fingerprint = "xxh64:" ‖ hex( xxh64( config essentials
 *                                        ‖ for each tensor of checkpointTensors(config), in that order:
 *                                            name[shape] ‖ its float32 values, little-endian ) )
 *
 * xxh64 comes from hash-wasm (WebAssembly, embedded in the package: it runs in Node and in a Web
 * Worker with no request). The loader feeds each tensor's values once, as it reads them, so there
 * is no second pass over the weights. Values are hashed after the upcast to float32, so the same
 * weights give the same fingerprint whatever the file's dtype (F16 and BF16 upcast exactly), its
 * sharding, or the embedding's split into GPU buffers.
 *
 * The same walk also collects the old, sampled fingerprint (sampledFingerprint.ts), so adapters
 * written before this one still find their model.
 */
import { createXXHash64, type IHasher } from 'hash-wasm';
import type { LlamaWeights, ModelConfig } from '../model/types';
import { checkpointTensors, namedWeights, type TensorSpec } from './checkpointLayout';
import { ValueSampler, configEssentials, fingerprintSamples } from './sampledFingerprint';

export const FINGERPRINT_PREFIX = 'xxh64:';

/** Both identities of one model's weights. */
export interface ModelFingerprints {
  /** Every weight hashed (FINGERPRINT_PREFIX + 16 hex digits). */
  fingerprint: string;
  /** The old kind: 1024 sampled values per tensor (16 hex digits). */
  sampledFingerprint: string;
}

/** True for a fingerprint of the old, sampled kind. */
export function isSampledFingerprint(fingerprint: string): boolean {
  return !fingerprint.startsWith(FINGERPRINT_PREFIX);
}

/**
 * Hashes the tensors of checkpointTensors(config) as they go by: `tensor(name)` opens the next one
 * (they must come in that order), `add(values)` takes its row-contiguous chunks.
 */
export class WeightsFingerprinter {
  private readonly specs: TensorSpec[];
  private readonly samples = new Map<string, Float32Array>();
  private index = -1;
  private remaining = 0;
  private sampler: ValueSampler | null = null;

  private constructor(
    private readonly config: ModelConfig,
    private readonly hasher: IHasher,
  ) {
    this.specs = checkpointTensors(config);
    hasher.init();
    hasher.update(configEssentials(config));
  }

  static async start(config: ModelConfig): Promise<WeightsFingerprinter> {
    return new WeightsFingerprinter(config, await createXXHash64());
  }

  tensor(name: string): void {
    this.closeTensor();
    const spec = this.specs[++this.index];
    if (spec?.name !== name) throw new Error(`fingerprint: got tensor "${name}", expected "${spec?.name}"`);
    this.remaining = spec.shape.reduce((n, d) => n * d, 1);
    this.sampler = new ValueSampler(this.remaining);
    this.hasher.update(`${name}[${spec.shape.join(',')}]`);
  }

  add(values: Float32Array): void {
    if (!this.sampler || values.length > this.remaining)
      throw new Error(`fingerprint: more values than tensor "${this.specs[this.index]?.name}" holds`);
    this.remaining -= values.length;
    this.sampler.add(values);
    this.hasher.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }

  digest(): ModelFingerprints {
    this.closeTensor();
    if (this.index !== this.specs.length - 1)
      throw new Error(`fingerprint: tensor "${this.specs[this.index + 1].name}" was never given`);
    return {
      fingerprint: FINGERPRINT_PREFIX + this.hasher.digest('hex'),
      sampledFingerprint: fingerprintSamples(this.config, this.samples),
    };
  }

  private closeTensor(): void {
    if (!this.sampler) return;
    const name = this.specs[this.index].name;
    if (this.remaining !== 0) throw new Error(`fingerprint: tensor "${name}" is ${this.remaining} values short`);
    this.samples.set(name, this.sampler.samples);
    this.sampler = null;
  }
}

/**
 * Fingerprints of weights held as arrays: every tensor of checkpointTensors(config) by its HF name,
 * as one Float32Array or as row-contiguous chunks (e.g. embedding shards).
 */
export async function fingerprintArrays(
  config: ModelConfig,
  named: ReadonlyMap<string, Float32Array | Float32Array[]>,
): Promise<ModelFingerprints> {
  const fingerprinter = await WeightsFingerprinter.start(config);
  for (const { name } of checkpointTensors(config)) {
    const arrays = named.get(name);
    if (!arrays) throw new Error(`fingerprint: no values for tensor "${name}"`);
    fingerprinter.tensor(name);
    for (const chunk of Array.isArray(arrays) ? arrays : [arrays]) fingerprinter.add(chunk);
  }
  return fingerprinter.digest();
}

/** Fingerprints of a model in tfjs tensors (reads every weight back from the backend once). */
export async function fingerprintModel(config: ModelConfig, weights: LlamaWeights): Promise<ModelFingerprints> {
  const tensors = namedWeights(config, weights);
  const named = new Map<string, Float32Array[]>();
  for (const { name, shape } of checkpointTensors(config)) {
    const pieces = tensors.get(name);
    named.set(
      name,
      pieces
        ? await Promise.all(pieces.map(async (t) => (await t.data()) as Float32Array))
        : [new Float32Array(shape[0])], // a bias the weights leave out stands for zeros
    );
  }
  return fingerprintArrays(config, named);
}
