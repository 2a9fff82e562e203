import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposeWeights, initWeights } from '../model/init';
import { forward } from '../model/llama';
import { referenceForward } from '../model/testing/referenceLlama';
import { randomIds, tinyConfig, toRefWeights } from '../model/testing/tinyModels';
import type { LlamaWeights } from '../model/types';
import { fuseAdapters, releaseReplacedWeights } from '../s2ft/fuse';
import { randomAdapter } from '../s2ft/testing/randomAdapter';
import { prepareLora } from '../train/lora';
import { adapterBlocks, decodeAdapterFolder, type DecodedAdapter } from './anyAdapter';
import { decodePeftLora } from './loraAdapter';
import { handPairs, handPeftFiles, type HandPair } from './testing/handPeft';

// 3 layers: D 32, F 48, 4 heads of 8 on 2 kv heads (q/o [32, 32], k/v [16, 32], gate/up [48, 32], down [32, 48]).
const config = tinyConfig({ numLayers: 3 });
const base = { name: 'tiny', fingerprint: 'xxh64:not-checked-here' };
const shapes: Record<string, [number, number]> = {
  q_proj: [32, 32],
  k_proj: [16, 32],
  v_proj: [16, 32],
  o_proj: [32, 32],
  gate_proj: [48, 32],
  up_proj: [48, 32],
  down_proj: [32, 48],
};
const pair = (layer: number, path: string, rank: number): HandPair => {
  const module = path.split('.')[1];
  const [outDim, inDim] = shapes[module];
  return { key: `model.layers.${layer}.${path}`, rank, inDim, outDim };
};
let weights: LlamaWeights;

beforeAll(async () => {
  await tf.setBackend('cpu');
  weights = initWeights(config, 5);
});
afterAll(() => disposeWeights(weights));

const folder = (files: { config: Uint8Array; weights: Uint8Array }): DecodedAdapter =>
  decodeAdapterFolder(
    new Map([
      ['adapter_config.json', files.config],
      ['adapter_model.safetensors', files.weights],
    ]),
    'hand-made',
  );

/**
 * Logits of the fused model against the float64 reference on W + Σ scaling·B·A, where the
 * expected modules and scalings are written out by hand from PEFT's rules.
 */
function compareWithReference(
  decoded: DecodedAdapter,
  expected: { key: string; scaling: number; A: Float32Array; B: Float32Array; rank: number }[],
): { maxDiff: number; notes: string[] } {
  const update = adapterBlocks(decoded, config, base);
  expect(update.blocks.map((b) => `model.layers.${b.layer}.${b.module}`).sort()).toEqual(
    expected.map((e) => e.key.replace(/\.(self_attn|mlp)\./, '.')).sort(),
  );
  const ref = toRefWeights(weights);
  const field = {
    q_proj: 'q',
    k_proj: 'k',
    v_proj: 'v',
    o_proj: 'o',
    gate_proj: 'gate',
    up_proj: 'up',
    down_proj: 'down',
  } as const;
  for (const e of expected) {
    const [, , layer, , module] = e.key.split('.');
    const W = ref.layers[Number(layer)][field[module as keyof typeof field]];
    const [out, inDim] = shapes[module];
    for (let o = 0; o < out; o++)
      for (let i = 0; i < inDim; i++) {
        let sum = 0;
        for (let k = 0; k < e.rank; k++) sum += e.B[o * e.rank + k] * e.A[k * inDim + i];
        W[o * inDim + i] += e.scaling * sum;
      }
  }
  const ids = randomIds(2, 6, config.vocabSize, 3);
  const want = referenceForward(config, ref, ids);
  const fused = fuseAdapters(weights, [{ adapter: update, weight: 1 }]);
  const got = tf.tidy(() => forward({ config, weights: fused }, tf.tensor2d(ids, [2, 6], 'int32')).dataSync());
  releaseReplacedWeights(fused, weights);
  let maxDiff = 0;
  want.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - got[i]))));
  return { maxDiff, notes: update.notes };
}

describe('PEFT LoRA adapters in (float64 reference)', () => {
  it('plain list target_modules: scaling alpha / r', () => {
    const pairs = handPairs(
      [
        pair(0, 'self_attn.q_proj', 4),
        pair(1, 'self_attn.q_proj', 4),
        pair(2, 'self_attn.q_proj', 4),
        pair(0, 'mlp.down_proj', 4),
        pair(1, 'mlp.down_proj', 4),
        pair(2, 'mlp.down_proj', 4),
      ],
      10,
    );
    const decoded = folder(handPeftFiles({ r: 4, lora_alpha: 8, target_modules: ['q_proj', 'down_proj'] }, pairs));
    const { maxDiff, notes } = compareWithReference(
      decoded,
      pairs.map((p) => ({ ...p, scaling: 8 / 4 })),
    );
    console.log(`LoRA list targets: max |logit diff| to float64 = ${maxDiff.toExponential(2)} (tolerance 1e-5)`);
    expect(maxDiff).toBeLessThan(1e-5);
    expect(notes).toEqual([expect.stringMatching(/records no base-model fingerprint/)]);
  });

  it('every option at once: rslora, rank/alpha patterns, layers_to_transform + layers_pattern, exclude, exact name, fan_in_fan_out', () => {
    // Expected by hand from PEFT's rules:
    //   q_proj, v_proj, down_proj by suffix, only in layers 0 and 2 (layers_to_transform, pattern "layers");
    //   layer 2's v_proj excluded; model.layers.1.mlp.up_proj named exactly (no layer filter applies);
    //   rank: q of layer 2 → 2 (its key comes first), other q → 7, down_proj → 3, else r = 4;
    //   alpha: v of layer 0 → 5, else 8;  scaling = alpha / √r (use_rslora).
    const spec: [number, string, number, number][] = [
      [0, 'self_attn.q_proj', 7, 8],
      [0, 'self_attn.v_proj', 4, 5],
      [0, 'mlp.down_proj', 3, 8],
      [2, 'self_attn.q_proj', 2, 8],
      [2, 'mlp.down_proj', 3, 8],
      [1, 'mlp.up_proj', 4, 8],
    ];
    const pairs = handPairs(
      spec.map(([l, p, r]) => pair(l, p, r)),
      20,
    );
    const config = {
      r: 4,
      lora_alpha: 8,
      use_rslora: true,
      target_modules: ['q_proj', 'v_proj', 'down_proj', 'model.layers.1.mlp.up_proj'],
      exclude_modules: ['layers.2.self_attn.v_proj'],
      layers_to_transform: [0, 2],
      layers_pattern: 'layers',
      rank_pattern: { 'layers.2.self_attn.q_proj': 2, down_proj: 3, q_proj: 7 },
      alpha_pattern: { 'model.layers.0.self_attn.v_proj': 5 },
      fan_in_fan_out: true,
      lora_dropout: 0.05,
      bias: 'none',
      modules_to_save: null,
      use_dora: false,
      init_lora_weights: true,
      inference_mode: true,
      base_model_name_or_path: 'tiny',
      revision: null,
    };
    const decoded = folder(handPeftFiles(config, pairs, 'BF16'));
    // BF16 on disk: the reference uses the values as the file holds them.
    const stored = decoded.kind === 'lora' ? decoded.adapter.pairs : new Map();
    const expected = spec.map(([l, p, r, alpha], i) => ({
      key: pairs[i].key,
      rank: r,
      scaling: alpha / Math.sqrt(r),
      A: stored.get(pairs[i].key)!.A as Float32Array,
      B: stored.get(pairs[i].key)!.B as Float32Array,
      layer: l,
      path: p,
    }));
    const { maxDiff, notes } = compareWithReference(decoded, expected);
    console.log(`LoRA with every option: max |logit diff| to float64 = ${maxDiff.toExponential(2)} (tolerance 1e-5)`);
    expect(maxDiff).toBeLessThan(1e-5);
    expect(notes).toContainEqual(expect.stringMatching(/fan_in_fan_out is true, and PEFT sets it to false/));
  });

  it('regex target_modules (full match) and all-linear', () => {
    const pairs = handPairs(
      [0, 1, 2].map((l) => pair(l, 'self_attn.o_proj', 2)),
      30,
    );
    const regex = folder(
      handPeftFiles({ r: 2, lora_alpha: 3, target_modules: '.*layers\\.\\d+\\.self_attn\\.o_proj' }, pairs),
    );
    const { maxDiff } = compareWithReference(
      regex,
      pairs.map((p) => ({ ...p, scaling: 3 / 2 })),
    );
    console.log(`LoRA regex targets: max |logit diff| to float64 = ${maxDiff.toExponential(2)}`);
    expect(maxDiff).toBeLessThan(1e-5);
    // "o_proj" alone does not fullmatch "model.layers.0.self_attn.o_proj": nothing is adapted, the weights are refused.
    expect(() => adapterBlocks(folder(handPeftFiles({ r: 2, target_modules: 'o_proj' }, pairs)), config, base)).toThrow(
      /holds weights for "model.layers.0.self_attn.o_proj", which the config's target_modules/,
    );
    const all = handPairs(
      [0, 1, 2].flatMap((l) =>
        Object.keys(shapes).map((m) =>
          pair(l, `${['q_proj', 'k_proj', 'v_proj', 'o_proj'].includes(m) ? 'self_attn' : 'mlp'}.${m}`, 1),
        ),
      ),
      40,
    );
    const allLinear = folder(handPeftFiles({ r: 1, lora_alpha: 1, target_modules: 'all-linear' }, all));
    const result = compareWithReference(
      allLinear,
      all.map((p) => ({ ...p, scaling: 1 })),
    );
    console.log(`LoRA all-linear: max |logit diff| to float64 = ${result.maxDiff.toExponential(2)}`);
    expect(result.maxDiff).toBeLessThan(1e-5);
  });

  it("the project's own LoRA training output fuses to the trained model", () => {
    const lora = prepareLora(
      { config, weights },
      { rank: 3, alpha: 5, seed: 2, targetModules: ['k_proj', 'gate_proj'] },
    );
    lora.trainable.forEach((v, i) => {
      if (i % 2 === 1) v.assign(tf.randomNormal(v.shape, 0, 0.2, 'float32', i));
    });
    const ids = tf.tensor2d(randomIds(2, 6, config.vocabSize, 9), [2, 6], 'int32');
    return lora.exportPeft({ name: 'tiny', fingerprint: base.fingerprint }).then((files) => {
      const trained = tf.tidy(() => forward({ config, weights }, ids, { linear: lora.linear }).dataSync());
      const decoded = decodeAdapterFolder(new Map(Object.entries(files)), 'trained');
      const update = adapterBlocks(decoded, config, base);
      expect(update.notes).toEqual([]); // it records this base's fingerprint
      const fused = fuseAdapters(weights, [{ adapter: update, weight: 1 }]);
      const got = tf.tidy(() => forward({ config, weights: fused }, ids).dataSync());
      releaseReplacedWeights(fused, weights);
      let maxDiff = 0;
      got.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - trained[i]))));
      console.log(
        `own LoRA output, fused vs trained forward: max |logit diff| = ${maxDiff.toExponential(2)} (tolerance 1e-5)`,
      );
      expect(maxDiff).toBeLessThan(1e-5);
      expect(() => adapterBlocks(decoded, config, { name: 'other', fingerprint: 'xxh64:0000000000000000' })).toThrow(
        /adapter was made for another base model: the adapter was trained on "tiny" .* the loaded model is "other"/,
      );
      lora.dispose();
      ids.dispose();
    });
  });

  it('mixes with a native S²FT adapter on the same module', () => {
    const pairs = handPairs(
      [0, 1, 2].map((l) => pair(l, 'self_attn.o_proj', 2)),
      50,
    );
    const lora = adapterBlocks(
      folder(handPeftFiles({ r: 2, lora_alpha: 2, target_modules: ['o_proj'] }, pairs)),
      config,
      base,
    );
    const s2ft = randomAdapter(
      tinyConfig({ numLayers: 3 }),
      {
        layers: [
          { heads: [1], channels: [3] },
          { heads: [], channels: [] },
          { heads: [0], channels: [] },
        ],
      },
      4,
    );
    const fused = fuseAdapters(weights, [
      { adapter: lora, weight: 0.5 },
      { adapter: s2ft, weight: 2 },
    ]);
    // Layer 0 o_proj by hand: W + 0.5·B·A + 2·S on head 1's columns.
    const W = Float64Array.from(weights.layers[0].linear.o_proj.dataSync());
    const p = pairs[0];
    for (let o = 0; o < 32; o++)
      for (let i = 0; i < 32; i++) W[o * 32 + i] += 0.5 * (p.B[o * 2] * p.A[i] + p.B[o * 2 + 1] * p.A[32 + i]);
    const block = s2ft.blocks.find((b) => b.layer === 0 && b.module === 'o_proj')!;
    block.indices.forEach((col, j) => {
      for (let o = 0; o < 32; o++) W[o * 32 + col] += 2 * block.delta[o * block.indices.length + j];
    });
    const got = fused.layers[0].linear.o_proj.dataSync();
    let maxDiff = 0;
    W.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - got[i]))));
    console.log(
      `LoRA 0.5 + S²FT 2 on one o_proj: max |W diff| to float64 = ${maxDiff.toExponential(2)} (tolerance 1e-6)`,
    );
    expect(maxDiff).toBeLessThan(1e-6);
    releaseReplacedWeights(fused, weights);
  });
});

describe('PEFT LoRA adapters refused in one line', () => {
  const pairs = handPairs([pair(0, 'self_attn.q_proj', 2)], 60);
  const refuse =
    (cfg: Record<string, unknown>, p = pairs, meta?: Record<string, string>) =>
    () =>
      adapterBlocks(folder(handPeftFiles({ r: 2, target_modules: ['q_proj'], ...cfg }, p, 'F32', meta)), config, base);
  it.each([
    [{ use_dora: true }, /use_dora is true: DoRA is not supported/],
    [{ modules_to_save: ['lm_head'] }, /modules_to_save is \["lm_head"\]: fully trained extra modules/],
    [{ bias: 'all' }, /bias is "all": only "none"/],
    [{ peft_type: 'IA3' }, /peft_type is "IA3"; only "LORA"/],
    [{ init_lora_weights: 'pissa' }, /init_lora_weights is "pissa"/],
    [{ some_new_field: 1 }, /some_new_field is not a LoRA setting this studio knows/],
    [{ constructor: 1 }, /constructor is not a LoRA setting this studio knows/], // found by test/fuzz/peftAdapter
    [{ r: 0 }, /r must be a positive integer, got 0/],
    [
      { target_modules: ['embed_tokens'] },
      /target_modules adapts "model.embed_tokens", which this studio cannot adapt/,
    ],
    [{ target_modules: '(' }, /target_modules has a regex this studio cannot use/],
    [
      { target_modules: 'x', layers_to_transform: [0] },
      /layers_to_transform cannot be used when target_modules is a string/,
    ],
    [{ rank_pattern: { q_proj: 4 } }, /its tensors have rank 2, but the config gives r = 4/],
    [
      { layers_to_transform: [1] },
      /holds weights for "model.layers.0.self_attn.q_proj", which the config's target_modules/,
    ],
  ])('%j', (cfg, message) => {
    expect(refuse(cfg as Record<string, unknown>)).toThrow(message);
  });

  it('a module the model lacks, a shape from another model, a lone half, no weights for a target', () => {
    expect(refuse({}, handPairs([pair(7, 'self_attn.q_proj', 2)], 1))).toThrow(
      /adapts "model.layers.7.self_attn.q_proj", but the loaded model "tiny" has 3 layers/,
    );
    expect(
      refuse({}, handPairs([{ key: 'model.layers.0.self_attn.q_proj', rank: 2, inDim: 64, outDim: 32 }], 1)),
    ).toThrow(/lora_A is \[2, 64\] and lora_B \[32, 2\], but the loaded model's q_proj is \[32, 32\]/);
    const files = handPeftFiles({ r: 2, target_modules: ['q_proj'] }, pairs);
    const text = new TextDecoder().decode(files.weights);
    expect(text).toContain('lora_B');
    const missingTarget = refuse({ init_lora_weights: false });
    expect(missingTarget).toThrow(
      /target_modules adapts "model.layers.1.self_attn.q_proj" \(and 1 more\) but the file has no weights/,
    );
    const zeroNote = adapterBlocks(folder(files), config, base).notes;
    expect(zeroNote).toContainEqual(expect.stringMatching(/2 module\(s\) the config adapts have no weights/));
    expect(() => decodePeftLora(files.config, files.weights.subarray(0, files.weights.length - 3), 'cut')).toThrow(
      /cut/,
    );
  });
});
