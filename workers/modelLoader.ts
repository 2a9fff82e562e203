/**
 * A model for the studio: the embedded default (public/models/<name>/ over HTTP) or a HF
 * checkpoint the user picked, loaded with the core's validating loader and refused, before any
 * allocation, when it cannot fit the device.
 */
import { UserError } from '../src/core/errors';
import {
  loadCheckpoint,
  COMPANION_FILES,
  CONFIG_FILE,
  TOKENIZER_CONFIG_FILE,
  TOKENIZER_FILE,
  WEIGHTS_FILE,
  type WeightsDtype,
} from '../src/core/io/checkpoint';
import { fileListSource, urlSource, type FileSource } from '../src/core/io/fileSource';
import { rowShards, EMBED_TOKENS } from '../src/core/io/checkpointLayout';
import { countParameters, estimateMemoryBytes } from '../src/core/model/config';
import { disposeWeights } from '../src/core/model/init';
import { loadTokenizer, type TextTokenizer } from '../src/core/model/tokenizer';
import type { LlamaModel } from '../src/core/model/types';
import type { ModelLoadProgress, ModelSource, ModelSummary, ProgressCallback } from './api';

export const DEFAULT_MODEL_FILES = [CONFIG_FILE, WEIGHTS_FILE, TOKENIZER_FILE, TOKENIZER_CONFIG_FILE];
/** A companion file larger than this is not kept for fused copies (real ones are far smaller). */
const MAX_COMPANION_BYTES = 64 * 2 ** 20;

export interface DeviceLimits {
  /** Largest float32 tensor one GPU buffer may hold (min of maxBufferSize and maxStorageBufferBindingSize). */
  maxBufferBytes: number;
  /** Refuse models whose float32 weights exceed this. */
  memoryLimitBytes: number;
}

export interface LoadedModel {
  model: LlamaModel;
  tokenizer: TextTokenizer | null;
  name: string;
  fingerprint: string;
  /** The old, sampled kind (src/core/io/sampledFingerprint.ts), matched by adapters and runs saved before. */
  sampledFingerprint: string;
  source: { kind: 'builtin'; url: string } | { kind: 'files'; name: string };
  /** Held-out text for the forgetting meter (path under /datasets), if the model names one. */
  heldout: string | null;
  /** How the checkpoint stores its weights, and its tokenizer and generation files: a fused copy keeps both. */
  dtype: WeightsDtype;
  companions: Map<string, Uint8Array>;
  summary: ModelSummary;
  dispose(): void;
}

export async function loadModel(
  source: ModelSource,
  limits: DeviceLimits,
  fetchImpl: typeof fetch,
  onProgress?: ProgressCallback<ModelLoadProgress>,
): Promise<LoadedModel> {
  const started = performance.now();
  const files = fileSourceOf(source, fetchImpl);
  onProgress?.({ phase: 'reading', loadedBytes: 0, totalBytes: 0, item: CONFIG_FILE });
  const loaded = await loadCheckpoint(files, {
    maxBufferBytes: limits.maxBufferBytes,
    memoryLimitBytes: limits.memoryLimitBytes,
    onProgress: (p) =>
      onProgress?.({ phase: 'weights', loadedBytes: p.loadedBytes, totalBytes: p.totalBytes, item: p.tensor }),
  });
  const model: LlamaModel = { config: loaded.config, weights: loaded.weights };
  try {
    onProgress?.({ phase: 'tokenizer', loadedBytes: 0, totalBytes: 0, item: TOKENIZER_FILE });
    const tokenizer = loaded.tokenizerJson
      ? loadTokenizer(loaded.tokenizerJson, loaded.tokenizerConfig, `${loaded.name}/${TOKENIZER_FILE}`)
      : null;
    const warnings = [...loaded.warnings];
    if (tokenizer && tokenizer.vocabSize > loaded.config.vocabSize) {
      warnings.push(
        `the tokenizer has ${tokenizer.vocabSize} tokens but the model only ${loaded.config.vocabSize}: text with the extra tokens cannot be used`,
      );
    }
    const heldout = source.kind === 'builtin' ? (source.heldout ?? null) : null;
    const fp32Bytes = estimateMemoryBytes(loaded.config);
    const summary: ModelSummary = {
      name: loaded.name,
      source: source.kind,
      config: loaded.config,
      paramCount: countParameters(loaded.config),
      fp32Bytes,
      trainingLimitBytes: 2 * limits.memoryLimitBytes,
      fingerprint: loaded.fingerprint,
      hasTokenizer: tokenizer !== null,
      hasChatTemplate: tokenizer?.hasChatTemplate ?? false,
      warnings,
      maxBufferBytes: limits.maxBufferBytes,
      embeddingShards: rowShards(EMBED_TOKENS, loaded.config.vocabSize, loaded.config.hiddenSize, limits.maxBufferBytes)
        .length,
      heldout,
      loadMs: performance.now() - started,
    };
    const companions = new Map<string, Uint8Array>();
    for (const name of COMPANION_FILES.filter((f) => files.has(f))) {
      if ((await files.size(name)) <= MAX_COMPANION_BYTES) companions.set(name, await files.bytes(name));
    }
    onProgress?.({ phase: 'done', loadedBytes: fp32Bytes, totalBytes: fp32Bytes, item: loaded.name });
    return {
      model,
      tokenizer,
      name: loaded.name,
      fingerprint: loaded.fingerprint,
      sampledFingerprint: loaded.sampledFingerprint,
      heldout,
      dtype: loaded.dtype,
      companions,
      summary,
      source: source.kind === 'builtin' ? { kind: 'builtin', url: source.url } : { kind: 'files', name: loaded.name },
      dispose: () => disposeWeights(model.weights),
    };
  } catch (e) {
    disposeWeights(model.weights);
    throw e;
  }
}

function fileSourceOf(source: ModelSource, fetchImpl: typeof fetch): FileSource {
  if (source.kind === 'files') {
    if (source.files.length === 0)
      throw new UserError(
        'missing-file',
        "no files were chosen: pick the model's folder (config.json, model.safetensors, tokenizer.json)",
      );
    return fileListSource(source.files);
  }
  const url = source.url.endsWith('/') ? source.url : `${source.url}/`;
  const name = source.name ?? url.split('/').filter(Boolean).pop() ?? 'model';
  return urlSource(url, source.files ?? DEFAULT_MODEL_FILES, name, fetchImpl);
}
