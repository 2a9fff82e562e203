/** `info --model DIR [--json]`: what a checkpoint is, how big, and whether it has a tokenizer. */
import { countParameters, estimateMemoryBytes } from '../../core/model/config';
import type { CommandRun } from '../command';
import { loadCliModel, printLoadWarnings } from '../modelArg';

export const run: CommandRun = async ({ flags, log }) => {
  const loaded = await loadCliModel(flags);
  printLoadWarnings(loaded);
  const c = loaded.config;
  const result = {
    model: loaded.name,
    dir: loaded.dir,
    model_type: c.modelType,
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_layers: c.numLayers,
    num_heads: c.numHeads,
    num_kv_heads: c.numKvHeads,
    head_dim: c.headDim,
    rope_theta: c.ropeTheta,
    rope_scaling: c.ropeScaling,
    tie_word_embeddings: c.tieWordEmbeddings,
    attention_bias: c.attentionBias,
    // Family settings (family.ts), present where the family has them.
    layer_types: c.layerTypes,
    sliding_window: c.slidingWindow,
    local_rope_theta: c.localRopeTheta,
    query_pre_attn_scalar: c.queryPreAttnScalar,
    attn_logit_softcapping: c.attnLogitSoftcapping,
    final_logit_softcapping: c.finalLogitSoftcapping,
    parameters: countParameters(c),
    fp32_bytes: estimateMemoryBytes(c),
    tokenizer: loaded.tokenizer !== null,
    chat_template: loaded.tokenizer?.hasChatTemplate ?? false,
    bos_token_id: c.bosTokenId,
    eos_token_ids: c.eosTokenIds,
    fingerprint: loaded.fingerprint,
  };
  log(
    `${result.model}: ${c.modelType}, ${c.numLayers} layers, hidden ${c.hiddenSize}, ${c.numHeads} heads (${c.numKvHeads} kv, head dim ${c.headDim}), ` +
      `FFN ${c.intermediateSize}, vocab ${c.vocabSize}${c.tieWordEmbeddings ? ', tied embeddings' : ''}${c.attentionBias ? ', attention biases' : ''}`,
  );
  log(`  rope_theta ${c.ropeTheta}${c.ropeScaling ? `, llama3 rope scaling ×${c.ropeScaling.factor}` : ''}`);
  const sliding = c.layerTypes?.filter((t) => t === 'sliding_attention').length ?? 0;
  if (sliding > 0)
    log(
      `  ${sliding} of ${c.numLayers} layers slide over ${c.slidingWindow} positions (rope_theta ${c.localRopeTheta})`,
    );
  const caps = [
    c.attnLogitSoftcapping && `attention ${c.attnLogitSoftcapping}`,
    c.finalLogitSoftcapping && `final ${c.finalLogitSoftcapping}`,
  ].filter(Boolean);
  if (caps.length > 0) log(`  logit soft-capping: ${caps.join(', ')}`);
  log(
    `  ${(result.parameters / 1e6).toFixed(2)}M parameters, ${(result.fp32_bytes / 2 ** 20).toFixed(1)} MiB in float32`,
  );
  log(
    `  tokenizer: ${result.tokenizer ? `yes${result.chat_template ? ', with chat template' : ''}` : 'none (token-id work only)'}`,
  );
  log(`  fingerprint ${result.fingerprint}`);
  return result;
};
