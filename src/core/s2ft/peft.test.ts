import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { parseSafetensors } from '../io/safetensors';
import { tinyConfig } from '../model/testing/tinyModels';
import { linearWeightName } from '../model/types';
import { moduleShape } from './adapter';
import { exportPeftLora, peftZip } from './peft';
import { randomAdapter } from './testing/randomAdapter';

const config = tinyConfig();
// Different k per module, so rank_pattern / alpha_pattern are exercised.
const selection = {
  layers: [
    { heads: [1, 3], channels: [0, 5, 17], vHeads: [1], upChannels: [2, 40] },
    { heads: [0], channels: [47] },
  ],
};
const adapter = randomAdapter(config, selection, 11);

/** PEFT's pattern lookup, both the old (`.*\.key$`) and the new (`(.*\.)?key$`) rule. */
function patternValue(
  pattern: Record<string, number>,
  moduleName: string,
  fallback: number,
  rule: 'old' | 'new',
): number {
  for (const [key, value] of Object.entries(pattern)) {
    const re = rule === 'old' ? new RegExp(`.*\\.${key}$`) : new RegExp(`^(.*\\.)?(${key})$`);
    if (re.test(moduleName)) return value;
  }
  return fallback;
}

describe('exact PEFT-LoRA export of an S²FT adapter', () => {
  it('B·A·alpha/r reproduces the native ΔW exactly for column and row blocks', () => {
    const files = exportPeftLora(adapter);
    const cfg = JSON.parse(new TextDecoder().decode(files['adapter_config.json'])) as {
      peft_type: string;
      task_type: string;
      r: number;
      lora_alpha: number;
      target_modules: string[];
      rank_pattern: Record<string, number>;
      alpha_pattern: Record<string, number>;
      bias: string;
      fan_in_fan_out: boolean;
      lora_dropout: number;
      base_model_name_or_path: string;
    };
    expect([cfg.peft_type, cfg.task_type, cfg.bias, cfg.fan_in_fan_out, cfg.lora_dropout]).toEqual([
      'LORA',
      'CAUSAL_LM',
      'none',
      false,
      0,
    ]);
    expect(cfg.base_model_name_or_path).toBe('tiny-base');
    // o_proj and down_proj are adapted in both layers; v_proj and up_proj in layer 0 only.
    expect(new Set(cfg.target_modules)).toEqual(
      new Set(['o_proj', 'down_proj', 'layers.0.self_attn.v_proj', 'layers.0.mlp.up_proj']),
    );
    const st = parseSafetensors(files['adapter_model.safetensors'], 'adapter_model.safetensors');
    expect(st.tensors.size).toBe(2 * adapter.blocks.length);

    for (const rule of ['old', 'new'] as const) {
      let maxDiff = 0;
      for (const b of adapter.blocks) {
        const moduleName = linearWeightName(b.layer, b.module); // as PEFT sees it inside LlamaForCausalLM
        const r = patternValue(cfg.rank_pattern, moduleName, cfg.r, rule);
        const alpha = patternValue(cfg.alpha_pattern, moduleName, cfg.lora_alpha, rule);
        const A = st.read(`base_model.model.${moduleName}.lora_A.weight`); // [r, in]
        const B = st.read(`base_model.model.${moduleName}.lora_B.weight`); // [out, r]
        const [out, inDim] = moduleShape(adapter.info.dims, b.module);
        expect(st.tensors.get(`base_model.model.${moduleName}.lora_A.weight`)!.shape).toEqual([r, inDim]);
        expect(st.tensors.get(`base_model.model.${moduleName}.lora_B.weight`)!.shape).toEqual([out, r]);
        // The native ΔW, written independently from the block's definition.
        const native = new Float64Array(out * inDim);
        const [rows, cols] = b.shape;
        for (let i = 0; i < rows; i++)
          for (let j = 0; j < cols; j++) {
            const v = b.delta[i * cols + j];
            if (b.axis === 'columns') native[i * inDim + b.indices[j]] = v;
            else native[b.indices[i] * inDim + j] = v;
          }
        for (let o = 0; o < out; o++)
          for (let c = 0; c < inDim; c++) {
            let s = 0;
            for (let q = 0; q < r; q++) s += B[o * r + q] * A[q * inDim + c];
            maxDiff = Math.max(maxDiff, Math.abs((alpha / r) * s - native[o * inDim + c]));
          }
      }
      console.log(`PEFT ΔW vs native ΔW (${rule} PEFT pattern rule): max diff ${maxDiff} (tolerance 0, exact)`);
      expect(maxDiff).toBe(0);
    }
  });

  it('zips the two files for one download', () => {
    const files = exportPeftLora(adapter);
    const unzipped = unzipSync(peftZip(files));
    expect(Object.keys(unzipped).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    expect(
      Buffer.from(unzipped['adapter_model.safetensors']).equals(Buffer.from(files['adapter_model.safetensors'])),
    ).toBe(true);
  });
});
