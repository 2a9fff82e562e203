/**
 * The peak memory of one training step, estimated from the model's shape, the batch and the
 * method, before anything is allocated: what the Model panel shows and what decides whether a
 * setting fits. Counted as memory.ts measures (distinct fp32 buffers), with the training path's
 * savings in mind:
 *
 *   held      the base weights W, and per method its trainable tensors with AdamW's m and v and
 *             their gradients (S²FT, LoRA: 4 × 4 bytes per trainable parameter); full FT holds a
 *             trained copy of W, m and v, and at the end of the backward a gradient of every
 *             weight: 5 W in all, and its peak is then, with the activations gone, while
 *             AdamW updates its largest tensor (the embedding's row shard when the vocabulary is
 *             large): its expressions hold 5 temporaries that tensor's size at once (fitted to
 *             SmolLM2-135M's measured peak, 540 MiB over 5 W for its 108 MiB embedding).
 *   saved     per layer and token, the floats the tape keeps for the backward: both norms' inputs
 *             (2 D), q, k and v for the attention (H·hd + 2 Hkv·hd), gate and up for SwiGLU (2 F);
 *             S²FT adds only its blocks' input columns; LoRA the normed inputs (2 D), the MLP
 *             activation (F) and x·A per adapted module; full FT every linear's input
 *             (2 D + H·hd + F).
 *   logits    the loss holds the logits and their gradient: 2 N·V floats.
 *   in flight the layer the backward is in holds its gradients of gate and up and of its
 *             input: 2 F + D floats per token (fitted to the embedded model's measured peaks).
 *
 * bench/experiments/memoryEstimate.ts prints estimate, measured and their ratio per shape.
 */
import { estimateMemoryBytes } from '../model/config';
import type { ModelConfig } from '../model/types';
import { DEFAULT_LORA_TARGETS, loraParams, unitCosts, type BlockModules, type UnitCounts } from '../s2ft/budget';
import type { MethodName } from './method';

export interface EstimateInput {
  batchSize: number; // B
  seqLen: number; // T
  /** The largest buffer the device gives a tensor (the embedding and lm_head are cut into row shards of it). */
  maxBufferBytes: number;
  /** S²FT trainable parameters, and the input columns its blocks keep per layer (heads·hd + channels). */
  s2ft: { params: number; columnsPerLayer: number };
  /** LoRA trainable parameters, its rank and the modules it adapts per layer. */
  lora: { params: number; rank: number; modules: number };
}

export type MemoryEstimate = Record<MethodName, number>;

/** The method sizes the estimate needs, from S²FT's unit counts (budget.ts unitCounts) and LoRA's rank. */
export function methodSizes(
  config: ModelConfig,
  counts: UnitCounts,
  modules: BlockModules,
  loraRank: number,
): Pick<EstimateInput, 's2ft' | 'lora'> {
  const cost = unitCosts(config, modules);
  const perLayer = counts.allocation === 'uniform' ? 1 : 1 / config.numLayers; // global counts are totals
  const layers = counts.allocation === 'uniform' ? config.numLayers : 1;
  const heads = counts.heads * layers;
  const channels = counts.channels * layers;
  return {
    s2ft: {
      params: heads * cost.head + channels * cost.channel,
      columnsPerLayer: (counts.heads * config.headDim + counts.channels) * perLayer,
    },
    lora: { params: loraParams(config, loraRank), rank: loraRank, modules: DEFAULT_LORA_TARGETS.length },
  };
}

/** Peak bytes of a training step per method. */
export function estimateTrainingBytes(config: ModelConfig, input: EstimateInput): MemoryEstimate {
  const { hiddenSize: D, intermediateSize: F, numHeads: H, numKvHeads: Hkv, headDim: hd, numLayers: L } = config;
  const W = estimateMemoryBytes(config);
  const N = input.batchSize * input.seqLen;
  const shared = 2 * D + H * hd + 2 * Hkv * hd + 2 * F; // floats per token and layer, every method
  const saved = {
    s2ft: shared + input.s2ft.columnsPerLayer,
    lora: shared + 2 * D + F + input.lora.modules * input.lora.rank,
    full: shared + 2 * D + H * hd + F,
  };
  const activations = (floats: number) => 4 * N * (L * floats + 2 * config.vocabSize + 2 * F + D);
  const trainable = (params: number) => 16 * params;
  const largest = largestWeightBytes(config, input.maxBufferBytes);
  return {
    s2ft: W + trainable(input.s2ft.params) + activations(saved.s2ft),
    lora: W + trainable(input.lora.params) + activations(saved.lora),
    full: Math.max(5 * W + ADAM_TEMPORARIES * largest, 4 * W + activations(saved.full)),
  };
}

/** Temporaries the size of the tensor AdamW is updating, alive at once (optimizer.ts apply). */
const ADAM_TEMPORARIES = 5;

/** The largest weight tensor (bytes): a row shard of the embedding or lm_head, or the widest linear. */
function largestWeightBytes(config: ModelConfig, maxBufferBytes: number): number {
  const { vocabSize: V, hiddenSize: D, intermediateSize: F, numHeads: H, headDim: hd } = config;
  const shardRows = Math.min(V, Math.floor(maxBufferBytes / (4 * D))); // as io/checkpointLayout.ts rowShards cuts
  return 4 * Math.max(shardRows * D, F * D, H * hd * D);
}

/**
 * The largest activation buffer one step creates (bytes): the logits of one lm_head row shard
 * [N, V_s], the attention scores [B, H, T, T], the MLP's [N, F] or the attention's [N, H·hd].
 * It must fit one GPU buffer, as the weights' shards do (io/checkpointLayout.ts rowShards).
 */
export function largestActivationBytes(
  config: ModelConfig,
  batchSize: number,
  seqLen: number,
  maxBufferBytes: number,
): number {
  const { hiddenSize: D, intermediateSize: F, numHeads: H, headDim: hd, vocabSize: V } = config;
  const N = batchSize * seqLen;
  const shardRows = Math.min(V, Math.floor(maxBufferBytes / (4 * D)));
  return 4 * Math.max(N * shardRows, batchSize * H * seqLen * seqLen, N * F, N * H * hd);
}

/**
 * The largest batch × length that `fits`, halving the batch first and then the length from
 * `start`; null if not even 1 × 1 does.
 */
export function largestFitting(
  fits: (batchSize: number, seqLen: number) => boolean,
  start: { batchSize: number; seqLen: number },
): { batchSize: number; seqLen: number } | null {
  let { batchSize, seqLen } = start;
  while (!fits(batchSize, seqLen)) {
    if (batchSize > 1) batchSize = Math.floor(batchSize / 2);
    else if (seqLen > 1) seqLen = Math.floor(seqLen / 2);
    else return null;
  }
  return { batchSize, seqLen };
}
