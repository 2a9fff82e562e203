/**
 * The config.json keys known not to change what the model computes from token ids: metadata,
 * the weights' storage dtype (the studio upcasts to float32), generation and serving defaults,
 * ids of tokens the forward pass never treats specially, and keys transformers itself ignores.
 * config.ts reads and checks every other key it knows; any key in neither place is refused.
 */
export const INERT_CONFIG_KEYS: ReadonlySet<string> = new Set([
  // Metadata and storage.
  '_name_or_path',
  'transformers_version',
  'torch_dtype',
  'dtype',
  'use_bfloat16',
  'initializer_range', // only used to initialise new weights
  'tokenizer_class',
  'is_llama_config', // SmolLM2's nanotron export marker, ignored by transformers
  'transformers.js_config', // transformers.js's own serving options
  'pretraining_tp', // a sharded matmul in old transformers, the same product
  'pad_token_id',
  'sep_token_id',
  'decoder_start_token_id',
  // Caching and attention back-ends: the same attention, computed another way.
  'use_cache',
  'cache_implementation',
  'attn_implementation',
  '_attn_implementation_autoset',
  'torchscript',
  // Outputs and heads the causal LM does not use.
  'return_dict',
  'output_hidden_states',
  'output_attentions',
  'pruned_heads',
  'tie_encoder_decoder',
  'is_encoder_decoder',
  'is_decoder',
  'add_cross_attention',
  'cross_attention_hidden_size',
  'chunk_size_feed_forward',
  'tf_legacy_loss',
  'id2label',
  'label2id',
  'num_labels',
  'problem_type',
  'finetuning_task',
  'task_specific_params',
  'prefix',
  // Generation defaults (the studio's sampling settings are its own).
  'max_length',
  'min_length',
  'do_sample',
  'early_stopping',
  'num_beams',
  'num_beam_groups',
  'diversity_penalty',
  'temperature',
  'top_k',
  'top_p',
  'typical_p',
  'repetition_penalty',
  'length_penalty',
  'no_repeat_ngram_size',
  'encoder_no_repeat_ngram_size',
  'bad_words_ids',
  'num_return_sequences',
  'output_scores',
  'return_dict_in_generate',
  'forced_bos_token_id',
  'forced_eos_token_id',
  'remove_invalid_values',
  'exponential_decay_length_penalty',
  'suppress_tokens',
  'begin_suppress_tokens',
]);
