import { describe, expect, it } from 'vitest';
import { UserError } from '../errors';
import { writeSafetensors, type TensorEntry } from '../io/safetensors';
import { tinyConfig } from '../model/testing/tinyModels';
import { checkAdapterFitsModel, decodeS2ftAdapter, encodeS2ftAdapter } from './adapter';
import { randomAdapter } from './testing/randomAdapter';

const config = tinyConfig(); // D 32, F 48, H 4, Hkv 2, hd 8, 2 layers
const selection = {
  layers: [
    { heads: [1, 3], channels: [0, 5, 17], vHeads: [1], upChannels: [2, 40] },
    { heads: [0], channels: [47] },
  ],
};
const adapter = randomAdapter(config, selection, 7);
const validConfig = () => {
  const bytes = encodeS2ftAdapter(adapter.blocks, adapter.info);
  return JSON.parse(decodeS2ftAdapterMetadata(bytes)) as Record<string, unknown>;
};
function decodeS2ftAdapterMetadata(bytes: Uint8Array): string {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as {
    __metadata__: Record<string, string>;
  };
  return header.__metadata__.s2ft_config;
}

function entries(): TensorEntry[] {
  const out: TensorEntry[] = [];
  for (const b of adapter.blocks) {
    const block = b.module === 'o_proj' || b.module === 'v_proj' ? 'self_attn' : 'mlp';
    const name = `model.layers.${b.layer}.${block}.${b.module}`;
    out.push({ name: `${name}.s2ft_delta`, dtype: 'F32', shape: [...b.shape], data: b.delta.slice() });
    out.push({
      name: `${name}.${b.axis === 'columns' ? 's2ft_columns' : 's2ft_rows'}`,
      dtype: 'I32',
      shape: [b.indices.length],
      data: b.indices.slice(),
    });
  }
  return out;
}
const metadata = () => ({ format: 's2ft', s2ft_config: JSON.stringify(validConfig()) });

function refusal(bytes: Uint8Array): UserError {
  try {
    decodeS2ftAdapter(bytes, 'my-adapter.safetensors');
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return e as UserError;
  }
  throw new Error('file was accepted');
}

describe('native S²FT adapter file', () => {
  it('round-trips blocks and settings exactly', () => {
    const bytes = encodeS2ftAdapter(adapter.blocks, adapter.info);
    const back = decodeS2ftAdapter(bytes, 'a.safetensors');
    expect(back.info).toEqual(adapter.info);
    expect(back.blocks.length).toBe(adapter.blocks.length);
    for (const [i, b] of adapter.blocks.entries()) {
      const r = back.blocks[i];
      expect([r.layer, r.module, r.axis, r.shape]).toEqual([b.layer, b.module, b.axis, b.shape]);
      expect(Array.from(r.indices)).toEqual(Array.from(b.indices));
      expect(
        Buffer.from(r.delta.buffer, r.delta.byteOffset, r.delta.byteLength).equals(Buffer.from(b.delta.buffer)),
      ).toBe(true);
    }
    // o_proj of layer 0: heads 1 and 3 of hd 8 → 16 columns, delta [hidden, 16].
    expect(back.blocks[0].shape).toEqual([32, 16]);
    expect(Array.from(back.blocks[0].indices)).toEqual([8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31]);
  });

  it('the valid hand-built file decodes (so the refusals below are caused by their one change)', () => {
    expect(decodeS2ftAdapter(writeSafetensors(entries(), metadata()), 'x').blocks.length).toBe(adapter.blocks.length);
  });

  it('refuses files that are not S²FT adapters, naming the file', () => {
    const e = refusal(writeSafetensors(entries(), { format: 'pt' }));
    expect(e.code).toBe('bad-file');
    expect(e.message).toMatch(/^my-adapter\.safetensors: not an S²FT adapter/);
    expect(refusal(writeSafetensors(entries(), { format: 's2ft', s2ft_config: '{nope' })).message).toMatch(
      /not valid JSON/,
    );
    expect(refusal(writeSafetensors(entries(), { format: 's2ft' })).message).toMatch(/no "s2ft_config"/);
    const lora = { ...validConfig(), peft_type: 'LORA' };
    expect(refusal(writeSafetensors(entries(), { format: 's2ft', s2ft_config: JSON.stringify(lora) })).message).toMatch(
      /peft_type/,
    );
  });

  it('refuses out-of-range, duplicate and misshapen blocks', () => {
    const mutate = (f: (es: TensorEntry[]) => void) => {
      const es = entries();
      f(es);
      return refusal(writeSafetensors(es, metadata())).message;
    };
    const cols = (es: TensorEntry[]) => es.find((e) => e.name === 'model.layers.0.mlp.down_proj.s2ft_columns')!;
    expect(
      mutate((es) => {
        cols(es).data = Int32Array.from([0, 5, 48]);
      }),
    ).toMatch(/index 48 is out of range \[0, 48\)/);
    expect(
      mutate((es) => {
        cols(es).data = Int32Array.from([0, 5, 5]);
      }),
    ).toMatch(/index 5 appears twice/);
    expect(
      mutate((es) => {
        cols(es).data = Int32Array.from([-1, 5, 6]);
      }),
    ).toMatch(/index -1 is out of range/);
    expect(
      mutate((es) => {
        const d = es.find((e) => e.name === 'model.layers.0.mlp.down_proj.s2ft_delta')!;
        d.shape = [31, 3];
        d.data = new Float32Array(93);
      }),
    ).toMatch(/shape \[31,3\], expected \[32,3\]/);
    expect(
      mutate((es) => {
        es.splice(
          es.findIndex((e) => e.name.endsWith('up_proj.s2ft_rows')),
          1,
        );
      }),
    ).toMatch(/no s2ft_rows tensor/);
    expect(
      mutate((es) => {
        es.push({
          name: 'model.layers.2.mlp.down_proj.s2ft_delta',
          dtype: 'F32',
          shape: [32, 1],
          data: new Float32Array(32),
        });
      }),
    ).toMatch(/layer 2 is out of range/);
    expect(
      mutate((es) => {
        es.push({ name: 'model.layers.0.mlp.down_proj.weight', dtype: 'F32', shape: [1], data: new Float32Array(1) });
      }),
    ).toMatch(/unexpected tensor/);
    expect(
      mutate((es) => {
        es.find((e) => e.name.endsWith('o_proj.s2ft_delta'))!.data[3] = NaN;
      }),
    ).toMatch(/NaN/);
    expect(
      mutate((es) => {
        const c = cols(es);
        c.name = 'model.layers.0.mlp.down_proj.s2ft_rows';
      }),
    ).toMatch(/down_proj blocks are columns/);
  });

  it('refuses an adapter for another base model, naming both models', () => {
    const base = { name: 'tiny-base', fingerprint: 'fp-base' };
    expect(() => checkAdapterFitsModel(adapter, config, base, 'a.safetensors')).not.toThrow();
    const other = { name: 'other-model', fingerprint: 'fp-other' };
    let err: unknown;
    try {
      checkAdapterFitsModel(adapter, config, other, 'a.safetensors');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    const e = err as UserError;
    console.log(`wrong-fingerprint message: ${e.message}`);
    expect(e.code).toBe('wrong-model');
    for (const s of ['a.safetensors', 'tiny-base', 'fp-base', 'other-model', 'fp-other'])
      expect(e.message).toContain(s);

    const fewer = () => checkAdapterFitsModel(adapter, tinyConfig({ numLayers: 1 }), base, 'a.safetensors');
    expect(fewer).toThrow(/2 layers, the loaded model has 1/);
    const wider = () => checkAdapterFitsModel(adapter, tinyConfig({ intermediateSize: 64 }), base, 'a.safetensors');
    expect(wider).toThrow(/intermediateSize = 48, the loaded model has 64/);
  });

  it('names both models for a layer-count mismatch and for a mismatch of every dimension', () => {
    const base = { name: 'tiny-base', fingerprint: 'fp-base' };
    const cases: [Partial<typeof config>, 'wrong-model' | 'shape-mismatch', RegExp][] = [
      [{ numLayers: 1 }, 'wrong-model', /adapter is for a model with 2 layers, the loaded model has 1/],
      [{ numLayers: 3 }, 'wrong-model', /adapter is for a model with 2 layers, the loaded model has 3/],
      [{ hiddenSize: 48 }, 'shape-mismatch', /hiddenSize = 32, the loaded model has 48/],
      [{ intermediateSize: 64 }, 'shape-mismatch', /intermediateSize = 48, the loaded model has 64/],
      [{ numHeads: 8, headDim: 4 }, 'shape-mismatch', /numHeads = 4, the loaded model has 8/],
      [{ numKvHeads: 4 }, 'shape-mismatch', /numKvHeads = 2, the loaded model has 4/],
      [{ headDim: 16 }, 'shape-mismatch', /headDim = 8, the loaded model has 16/],
    ];
    for (const [change, code, pattern] of cases) {
      const other = { name: 'loaded-model', fingerprint: 'fp-loaded' };
      let err: unknown;
      try {
        checkAdapterFitsModel(adapter, tinyConfig(change), other, 'a.safetensors');
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(change)).toBeInstanceOf(UserError);
      const e = err as UserError;
      expect(e.code).toBe(code);
      expect(e.message).toMatch(pattern);
      for (const s of ['a.safetensors', base.name, base.fingerprint, other.name, other.fingerprint])
        expect(e.message).toContain(s);
      console.log(`${JSON.stringify(change)} → ${e.code}: ${e.message}`);
    }
  });
});
