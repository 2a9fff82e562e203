/** The two model shapes of the comparison (Node side: reads the embedded default model's config). */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../src/core/model/config';
import type { ModelConfig } from '../../src/core/model/types';

/** A weights-dominated model: SmolLM-like proportions at hidden 512, GQA 8/2 heads, vocab 8k. */
export const WEIGHTS_DOMINATED: ModelConfig = {
  modelType: 'llama',
  vocabSize: 8192,
  hiddenSize: 512,
  intermediateSize: 1536,
  numLayers: 8,
  numHeads: 8,
  numKvHeads: 2,
  headDim: 64,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  ropeScaling: null,
  maxPositionEmbeddings: 2048,
  tieWordEmbeddings: true,
  attentionBias: false,
  bosTokenId: 0,
  eosTokenIds: [0],
};

/** SmolLM2-135M's shape (its config.json): 30 layers, hidden 576, GQA 9/3 heads, vocab 49 152, tied. */
export const SMOLLM2_135M: ModelConfig = {
  ...WEIGHTS_DOMINATED,
  vocabSize: 49152,
  hiddenSize: 576,
  intermediateSize: 1536,
  numLayers: 30,
  numHeads: 9,
  numKvHeads: 3,
  headDim: 64,
  ropeTheta: 100000,
  maxPositionEmbeddings: 8192,
};

/** The embedded default model's config (public/models/<name>/config.json), else the pretraining recipe's shape. */
export function defaultModelConfig(): { config: ModelConfig; source: string } {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'public', 'models');
  const names = existsSync(dir)
    ? readdirSync(dir)
        .filter((n) => existsSync(path.join(dir, n, 'config.json')))
        .sort()
    : [];
  if (names.length > 0) {
    const file = path.join(dir, names[0], 'config.json');
    return { config: parseConfig(JSON.parse(readFileSync(file, 'utf8')), file), source: `public/models/${names[0]}` };
  }
  return {
    source: "the default model's recipe shape (public/models/ not built yet)",
    config: {
      ...WEIGHTS_DOMINATED,
      vocabSize: 1024,
      hiddenSize: 128,
      intermediateSize: 352,
      numLayers: 4,
      numHeads: 4,
      numKvHeads: 2,
      headDim: 32,
      maxPositionEmbeddings: 512,
    },
  };
}
