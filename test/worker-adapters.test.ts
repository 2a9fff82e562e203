// Adapters through the worker's session in Node (tfjs cpu): export → import round trip (the file
// is parsed and the imported adapter generates exactly what the trained state does), the PEFT zip,
// refusal of an adapter for another model with both models named, fusion and switching.
import * as tf from '@tensorflow/tfjs';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSafetensors } from '../src/core/io/safetensors';
import { decodeS2ftAdapter } from '../src/core/s2ft/adapter';
import { PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE } from '../src/core/s2ft/peft';
import type { RunSummary } from '../workers/api';
import { BUILTIN_TINY, makeStudio, readyStudio, trainConfig, type Studio } from './workerFixtures';

let studio: Studio;
let run: RunSummary;
const PROMPT = [0, 12, 9, 16]; // <s> h e l
const GEN = { maxNewTokens: 8 };

beforeAll(async () => {
  await tf.setBackend('cpu');
  studio = await readyStudio();
  run = await studio.session.train(trainConfig({ steps: 15, lr: 5e-2, evalEvery: 0 }), () => undefined);
});

afterAll(() => studio.session.dispose());

describe('adapters', () => {
  it('exports the native file, imports it back, and generates exactly what the trained state does', async () => {
    const file = await studio.session.exportAdapter('s2ft');
    expect(file.fileName).toMatch(/\.s2ft\.safetensors$/);
    const decoded = decodeS2ftAdapter(new Uint8Array(file.bytes), file.fileName);
    const selection = run.selection!;
    // One o_proj and one down_proj block per layer, on exactly the selected heads and channels.
    expect(decoded.blocks.map((b) => `${b.layer}.${b.module}`)).toEqual([
      '0.o_proj',
      '0.down_proj',
      '1.o_proj',
      '1.down_proj',
    ]);
    expect(Array.from(decoded.blocks[1].indices)).toEqual([...selection.layers[0].channels].sort((a, b) => a - b));
    expect(decoded.info.baseModel.name).toBe('tiny');

    const imported = await studio.session.importAdapter('mine.s2ft.safetensors', file.bytes.slice(0));
    expect(imported.fits).toBe(true);
    expect(imported.origin).toBe('imported');
    expect(imported.params).toBe(run.trainableParams);
    const current = await studio.session.generate(PROMPT, { ...GEN, adapters: 'current' });
    const viaImport = await studio.session.generate(PROMPT, { ...GEN, adapters: imported.id });
    const base = await studio.session.generate(PROMPT, { ...GEN, adapters: 'base' });
    console.log(`ids base ${base.ids} | trained ${current.ids} | imported ${viaImport.ids}`);
    expect(viaImport.ids).toEqual(current.ids);
    expect(viaImport.ids).not.toEqual(base.ids);
  });

  it('exports the exact PEFT-LoRA zip', async () => {
    const zip = await studio.session.exportAdapter('peft-zip');
    const files = unzipSync(new Uint8Array(zip.bytes));
    const config = JSON.parse(new TextDecoder().decode(files[PEFT_CONFIG_FILE]));
    expect(config.peft_type).toBe('LORA');
    expect(config.base_model_name_or_path).toBe('tiny');
    const weights = parseSafetensors(files[PEFT_WEIGHTS_FILE]);
    expect(weights.tensors.has('base_model.model.model.layers.0.self_attn.o_proj.lora_B.weight')).toBe(true);
  });

  it('refuses an adapter made for another model, naming both', async () => {
    const file = await studio.session.exportAdapter('s2ft');
    const other = await makeStudio({ seed: 42 });
    await other.session.loadModel(BUILTIN_TINY);
    const summary = await other.session.importAdapter('theirs.s2ft.safetensors', file.bytes);
    expect(summary.fits).toBe(false);
    expect(summary.message).toMatch(
      /trained on "tiny" \(fingerprint xxh64:[0-9a-f]{16}\), the loaded model is "tiny" \(fingerprint xxh64:[0-9a-f]{16}\)/,
    );
    await expect(other.session.generate(PROMPT, { ...GEN, adapters: summary.id })).rejects.toThrow(
      /cannot use "theirs\.s2ft\.safetensors"/,
    );
    await expect(other.session.switchTo(summary.id)).rejects.toThrow(/adapter was made for another base model/);
    other.session.dispose();
  });

  it('refuses a broken or foreign file with a message', async () => {
    await expect(studio.session.importAdapter('junk.safetensors', new Uint8Array([1, 2, 3]).buffer)).rejects.toThrow(
      /junk\.safetensors/,
    );
    const zip = await studio.session.exportAdapter('peft-zip');
    await expect(studio.session.importAdapter('a.zip', zip.bytes)).rejects.toThrow(/this is a zip/);
  });

  it('fuses adapters with weights: ½·A + ½·A generates as A; switchTo makes it the default', async () => {
    const a = run.adapterId!;
    const half = await studio.session.fuse([a, a], [0.5, 0.5]);
    expect(half.kind).toBe('fused');
    expect(half.fits).toBe(true);
    const viaA = await studio.session.generate(PROMPT, { ...GEN, adapters: a });
    const viaHalf = await studio.session.generate(PROMPT, { ...GEN, adapters: half.id });
    expect(viaHalf.ids).toEqual(viaA.ids);
    // The fused file holds exactly A's deltas (0.5·S + 0.5·S in float64, then float32).
    const fusedFile = decodeS2ftAdapter(
      new Uint8Array((await studio.session.exportAdapter('s2ft', half.id)).bytes),
      'fused',
    );
    const aFile = decodeS2ftAdapter(new Uint8Array((await studio.session.exportAdapter('s2ft', a)).bytes), 'a');
    let maxDiff = 0;
    fusedFile.blocks.forEach((b, i) =>
      b.delta.forEach((v, j) => {
        maxDiff = Math.max(maxDiff, Math.abs(v - aFile.blocks[i].delta[j]));
      }),
    );
    console.log(`fused ½A+½A vs A: max |diff| ${maxDiff} (tol 0)`);
    expect(maxDiff).toBe(0);

    // A single weight scales: 2·A holds exactly twice A's deltas.
    const double = await studio.session.fuse([a], [2]);
    const doubleFile = decodeS2ftAdapter(
      new Uint8Array((await studio.session.exportAdapter('s2ft', double.id)).bytes),
      'double',
    );
    doubleFile.blocks.forEach((b, i) =>
      expect(Array.from(b.delta)).toEqual(Array.from(aFile.blocks[i].delta, (v) => 2 * v)),
    );

    const tensors = tf.memory().numTensors;
    await studio.session.switchTo(half.id);
    const byDefault = await studio.session.generate(PROMPT, GEN);
    expect(byDefault.ids).toEqual(viaA.ids);
    await studio.session.switchTo('base');
    const baseAgain = await studio.session.generate(PROMPT, GEN);
    expect(baseAgain.ids).toEqual((await studio.session.generate(PROMPT, { ...GEN, adapters: 'base' })).ids);
    expect(tf.memory().numTensors).toBe(tensors);
    expect((await studio.session.listAdapters()).map((s) => s.id)).toContain(half.id);
  });

  it('a LoRA run leaves an adapter that exports as PEFT and generates as the trained state', async () => {
    const lora = await studio.session.train(
      trainConfig({ method: 'lora', steps: 6, lr: 5e-2, evalEvery: 0 }),
      () => undefined,
    );
    const current = await studio.session.generate(PROMPT, { ...GEN, adapters: 'current' });
    const viaId = await studio.session.generate(PROMPT, { ...GEN, adapters: lora.adapterId! });
    expect(viaId.ids).toEqual(current.ids);
    const zip = unzipSync(new Uint8Array((await studio.session.exportAdapter('peft-zip', lora.adapterId!)).bytes));
    expect(JSON.parse(new TextDecoder().decode(zip[PEFT_CONFIG_FILE])).r).toBe(2);
    await expect(studio.session.exportAdapter('s2ft', lora.adapterId!)).rejects.toThrow(
      /LoRA adapter: export it as a PEFT-LoRA zip/,
    );
    const memory = await studio.session.memory();
    expect(memory.backend).toBe('cpu');
    expect(memory.numTensors).toBe(tf.memory().numTensors);
  });
});
