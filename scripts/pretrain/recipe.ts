/**
 * What a pretraining run trains: the model's shape, the tokenizer's size and the optimisation
 * settings. Two recipes: `full` (the shipped model) and `quick` (seconds, for tests). Every number
 * of the model card comes from one of these plus what the run measured.
 */
import type { ModelConfig } from '../../src/core/model/types';

export interface Recipe {
  name: string;
  /** BPE vocabulary, special tokens included. */
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  /** Training window T (the held-out loss is measured with the same window). */
  seqLen: number;
  batchSize: number;
  steps: number;
  lr: number;
  warmup: number;
  weightDecay: number;
  /** Measure the loss on a held-out prefix every this many updates (0 = never), for the card's curve. */
  monitorEvery: number;
  /** Training chapters used (null = all); quick mode takes a few to stay fast. */
  trainChapters: number | null;
  /** Characters of the held-out file evaluated (null = all); quick mode evaluates a prefix. */
  heldOutChars: number | null;
  /** Tokens generated per sample in the card. */
  sampleTokens: number;
}

export const FULL_RECIPE: Recipe = {
  name: 'moby-llama-800k',
  vocabSize: 512,
  hiddenSize: 128,
  intermediateSize: 352,
  numLayers: 4,
  numHeads: 4,
  numKvHeads: 2,
  seqLen: 128,
  batchSize: 16,
  steps: 2500,
  lr: 4e-3,
  warmup: 100,
  weightDecay: 0.01,
  monitorEvery: 250,
  trainChapters: null,
  heldOutChars: null,
  sampleTokens: 48,
};

export const QUICK_RECIPE: Recipe = {
  name: 'moby-llama-quick',
  vocabSize: 320,
  hiddenSize: 32,
  intermediateSize: 64,
  numLayers: 4,
  numHeads: 4,
  numKvHeads: 2,
  seqLen: 32,
  batchSize: 4,
  steps: 6,
  lr: 3e-3,
  warmup: 2,
  weightDecay: 0.01,
  monitorEvery: 3,
  trainChapters: 3,
  heldOutChars: 1500,
  sampleTokens: 8,
};

/** The LLaMA configuration of a recipe: GQA, tied embeddings, <|endoftext|> (id 0) as BOS/EOS. */
export function modelConfig(recipe: Recipe): ModelConfig {
  const headDim = recipe.hiddenSize / recipe.numHeads;
  if (!Number.isInteger(headDim))
    throw new Error(`hidden size ${recipe.hiddenSize} is not a multiple of ${recipe.numHeads} heads`);
  return {
    modelType: 'llama',
    vocabSize: recipe.vocabSize,
    hiddenSize: recipe.hiddenSize,
    intermediateSize: recipe.intermediateSize,
    numLayers: recipe.numLayers,
    numHeads: recipe.numHeads,
    numKvHeads: recipe.numKvHeads,
    headDim,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    ropeScaling: null,
    // Trained on windows of seqLen; RoPE lets it read longer prompts, with some loss of quality.
    maxPositionEmbeddings: 4 * recipe.seqLen,
    tieWordEmbeddings: true,
    attentionBias: false,
    bosTokenId: 0,
    eosTokenIds: [0],
  };
}
