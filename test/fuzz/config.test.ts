// Fuzzing the config.json parser: valid HF configs of every supported family with structured
// malformations (each field missing or of a wrong type, prototype keys, Infinity from 1e400,
// deep nesting, huge integers) and arbitrary JSON. Every outcome is a ModelConfig whose numbers
// are usable, or a UserError naming the field.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig, toHfConfig } from '../../src/core/model/config';
import { tinyConfig } from '../../src/core/model/testing/tinyModels';
import { INERT_CONFIG_KEYS } from '../../src/core/model/configKeys';
import { FAMILIES } from '../../src/core/model/family';
import type { ModelConfig, ModelType } from '../../src/core/model/types';
import { UserError } from '../../src/core/errors';
import { Tally, hostileValue, jsonOp, mutateJson, preview, runOne, serialize } from './harness';

const FIELDS = [
  'model_type',
  'architectures',
  'vocab_size',
  'hidden_size',
  'intermediate_size',
  'num_hidden_layers',
  'num_attention_heads',
  'num_key_value_heads',
  'head_dim',
  'hidden_act',
  'max_position_embeddings',
  'rms_norm_eps',
  'rope_theta',
  'rope_scaling',
  'tie_word_embeddings',
  'bos_token_id',
  'eos_token_id',
  'attention_bias',
  'mlp_bias',
  'sliding_window',
  'use_sliding_window',
  'quantization_config',
  'partial_rotary_factor',
  'layer_types',
  'rope_parameters',
  'query_pre_attn_scalar',
  'sliding_window_pattern',
  'rope_local_base_freq',
  'attn_logit_softcapping',
  'final_logit_softcapping',
  'hidden_activation',
  'use_bidirectional_attention',
  'attention_dropout',
  '__proto__',
  'constructor',
];

const validConfig = fc
  .record({
    modelType: fc.constantFrom(...(Object.keys(FAMILIES) as ModelType[])),
    llama3: fc.boolean(),
    tie: fc.boolean(),
  })
  .map(({ modelType, llama3, tie }): string => {
    const c: ModelConfig = tinyConfig({
      modelType,
      tieWordEmbeddings: tie,
      attentionBias: modelType === 'qwen2',
      ...(modelType === 'gemma3_text'
        ? {
            layerTypes: ['sliding_attention', 'full_attention'],
            slidingWindow: 4,
            localRopeTheta: 100,
            queryPreAttnScalar: 6,
            attnLogitSoftcapping: 50,
          }
        : {}),
      ropeScaling: llama3
        ? { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 }
        : null,
    });
    return JSON.stringify(toHfConfig(c));
  });

/** One field set to a hostile value (or removed), as text so 1e400 and deep nesting survive. */
const fieldEdit = fc
  .tuple(validConfig, fc.constantFrom(...FIELDS), fc.option(hostileValue, { nil: undefined }))
  .map(([text, field, value]) => {
    const json = JSON.parse(text) as Record<string, unknown>;
    if (value === undefined) delete json[field];
    else Object.defineProperty(json, field, { value, enumerable: true, writable: true, configurable: true });
    return serialize(json);
  });

const malformed: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fieldEdit },
  {
    weight: 3,
    arbitrary: fc
      .tuple(validConfig, fc.array(jsonOp, { minLength: 1, maxLength: 4 }))
      .map(([t, ops]) => mutateJson(t, ops)),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...FIELDS), hostileValue, { maxKeys: 8 }).map(serialize) },
  { weight: 1, arbitrary: validConfig },
);

/** What parseConfig promises to the model code: safe positive integers that fit together. */
function checkParsed(c: ModelConfig): void {
  for (const v of [
    c.vocabSize,
    c.hiddenSize,
    c.intermediateSize,
    c.numLayers,
    c.numHeads,
    c.numKvHeads,
    c.headDim,
    c.maxPositionEmbeddings,
  ]) {
    expect(Number.isSafeInteger(v) && v > 0).toBe(true);
  }
  expect(c.numHeads % c.numKvHeads).toBe(0);
  expect(Number.isFinite(c.rmsNormEps) && c.rmsNormEps > 0).toBe(true);
  expect(Number.isFinite(c.ropeTheta) && c.ropeTheta > 0).toBe(true);
  expect(Object.keys(FAMILIES)).toContain(c.modelType);
  if (c.layerTypes) expect(c.layerTypes).toHaveLength(c.numLayers);
  for (const v of [c.slidingWindow, c.localRopeTheta, c.queryPreAttnScalar, c.attnLogitSoftcapping])
    if (v !== undefined) expect(Number.isFinite(v) && v > 0).toBe(true);
  for (const id of c.eosTokenIds) expect(Number.isSafeInteger(id) && id >= 0).toBe(true);
}

describe('config.json parser under malformed input', () => {
  it('returns a usable ModelConfig or a UserError naming the field', () => {
    const tally = new Tally('parseConfig');
    fc.assert(
      fc.property(malformed, (text) => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          return;
        } // text-level damage is the checkpoint loader's (fuzzed there)
        runOne(
          tally,
          { maxAllocationBytes: 1 << 16 },
          () => preview(text),
          () => checkParsed(parseConfig(json, 'fuzz/config.json')),
        );
      }),
      { numRuns: 2500, seed: 82 },
    );
    tally.print();
    expect(tally.total).toBeGreaterThan(2300);
    expect(tally.count('accepted')).toBeGreaterThan(100);
    expect(tally.count('refused:bad-file')).toBeGreaterThan(500);
    expect(tally.count('refused:unsupported')).toBeGreaterThan(100);
  });
});

describe('no silent field', () => {
  it('refuses any key the parser neither reads nor lists as inert, naming it and its value', () => {
    const known = new Set([...FIELDS, ...INERT_CONFIG_KEYS]);
    let refused = 0;
    fc.assert(
      fc.property(
        validConfig,
        fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !known.has(k) && k !== '__proto__'),
        fc.oneof(fc.integer(), fc.boolean(), fc.string({ maxLength: 8 })),
        (text, key, value) => {
          const json = { ...(JSON.parse(text) as Record<string, unknown>), [key]: value };
          let error: unknown;
          try {
            parseConfig(json);
          } catch (e) {
            error = e;
          }
          expect(error).toBeInstanceOf(UserError);
          expect((error as UserError).message).toBe(
            `config.json: ${key} ${JSON.stringify(value)} is not supported: the studio does not know how it changes the model's computation`,
          );
          refused++;
        },
      ),
      { numRuns: 300, seed: 14 },
    );
    console.log(`unknown keys refused: ${refused}/300`);
  });
});
