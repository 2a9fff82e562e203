// Fuzzing the config.json parser: valid HF configs of every supported family with structured
// malformations (each field missing or of a wrong type, prototype keys, Infinity from 1e400,
// deep nesting, huge integers) and arbitrary JSON. Every outcome is a ModelConfig whose numbers
// are usable, or a UserError naming the field.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig, toHfConfig } from '../../src/core/model/config';
import { tinyConfig } from '../../src/core/model/testing/tinyModels';
import type { ModelConfig } from '../../src/core/model/types';
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
  '__proto__',
  'constructor',
];

const validConfig = fc
  .record({
    modelType: fc.constantFrom('llama' as const, 'mistral' as const, 'qwen2' as const),
    llama3: fc.boolean(),
    tie: fc.boolean(),
  })
  .map(({ modelType, llama3, tie }): string => {
    const c: ModelConfig = tinyConfig({
      modelType,
      tieWordEmbeddings: tie,
      attentionBias: modelType === 'qwen2',
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
  expect(['llama', 'mistral', 'qwen2']).toContain(c.modelType);
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
