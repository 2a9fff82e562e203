// Adapters through the worker's session in Node (tfjs cpu): export → import round trip (the file
// is parsed and the imported adapter generates exactly what the trained state does), the PEFT zip,
// refusal of an adapter for another model with both models named, fusion and switching.
import * as tf from '@tensorflow/tfjs';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../src/core/io/checkpoint';
import { memorySource } from '../src/core/io/fileSource';
import { parseSafetensors } from '../src/core/io/safetensors';
import { disposeWeights } from '../src/core/model/init';
import { forward } from '../src/core/model/llama';
import { fuseAdapters, releaseReplacedWeights } from '../src/core/s2ft/fuse';
import { handPairs, handPeftFiles } from '../src/core/peft/testing/handPeft';
import { adapterDims, decodeS2ftAdapter } from '../src/core/s2ft/adapter';
import { PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE } from '../src/core/s2ft/peft';
import { memoryAdapterStore } from '../workers/adapterStore';
import type { RunSummary } from '../workers/api';
import {
  BUILTIN_TINY,
  checkpointFiles,
  fixtureConfig,
  makeStudio,
  readyStudio,
  trainConfig,
  type Studio,
} from './workerFixtures';

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

const toBuffer = (bytes: Uint8Array): ArrayBuffer => bytes.slice().buffer;

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
    const bin = zipSync({ 'adapter_config.json': strToU8('{}'), 'adapter_model.bin': new Uint8Array(8) });
    await expect(studio.session.importAdapter('pickled.zip', toBuffer(bin))).rejects.toThrow(
      /pickled\.zip: has no adapter_model\.safetensors \(found adapter_model\.bin/,
    );
  });

  it('imports a PEFT LoRA (zip, or the two files of its folder) that generates exactly as the S²FT adapter it encodes', async () => {
    const zip = await studio.session.exportAdapter('peft-zip');
    const viaZip = await studio.session.importAdapter('exact.zip', zip.bytes);
    expect(viaZip).toMatchObject({ kind: 'lora', origin: 'imported', fits: true, baseModel: { name: 'tiny' } });
    const files = unzipSync(new Uint8Array(zip.bytes));
    const viaFolder = await studio.session.importAdapterFiles(
      [PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE].map((name) => ({ fileName: name, bytes: toBuffer(files[name]) })),
    );
    const s2ft = await studio.session.generate(PROMPT, { ...GEN, adapters: run.adapterId! });
    for (const id of [viaZip.id, viaFolder.id])
      expect((await studio.session.generate(PROMPT, { ...GEN, adapters: id })).ids).toEqual(s2ft.ids);
    // Exported again, the zip holds the same two files.
    const again = unzipSync(new Uint8Array((await studio.session.exportAdapter('peft-zip', viaZip.id)).bytes));
    expect(again[PEFT_WEIGHTS_FILE]).toEqual(files[PEFT_WEIGHTS_FILE]);
    await expect(studio.session.exportAdapter('s2ft', viaZip.id)).rejects.toThrow(/is a LoRA adapter/);
  });

  it('a LoRA from PEFT on q_proj and gate_proj: switch, fuse with weights, and a fusion with S²FT', async () => {
    // Made by hand in PEFT's layout (no fingerprint recorded): rank 2, alpha 8, two layers of the tiny model.
    const dims = adapterDims(fixtureConfig());
    const pairs = handPairs(
      [0, 1].flatMap((layer) => [
        {
          key: `model.layers.${layer}.self_attn.q_proj`,
          rank: 2,
          inDim: dims.hiddenSize,
          outDim: dims.numHeads * dims.headDim,
        },
        { key: `model.layers.${layer}.mlp.gate_proj`, rank: 2, inDim: dims.hiddenSize, outDim: dims.intermediateSize },
      ]),
      7,
    );
    const hand = handPeftFiles({ r: 2, lora_alpha: 8, target_modules: ['q_proj', 'gate_proj'] }, pairs);
    const theirs = await studio.session.importAdapterFiles([
      { fileName: PEFT_CONFIG_FILE, bytes: toBuffer(hand.config) },
      { fileName: PEFT_WEIGHTS_FILE, bytes: toBuffer(hand.weights) },
    ]);
    expect(theirs).toMatchObject({ kind: 'lora', fits: true, blocks: 4 });
    expect(theirs.message).toMatch(/records no base-model fingerprint/);
    const base = await studio.session.generate(PROMPT, { ...GEN, adapters: 'base' });
    const viaTheirs = await studio.session.generate(PROMPT, { ...GEN, adapters: theirs.id });
    console.log(`hand PEFT LoRA: base ${base.ids} | adapter ${viaTheirs.ids}`);

    // ½·L + ½·L serves as L; L on q_proj/gate_proj does not fit the native file, so the fusion is a LoRA.
    const half = await studio.session.fuse([theirs.id, theirs.id], [0.5, 0.5]);
    expect(half).toMatchObject({ kind: 'lora', origin: 'fused', fits: true });
    expect((await studio.session.generate(PROMPT, { ...GEN, adapters: half.id })).ids).toEqual(viaTheirs.ids);
    await studio.session.switchTo(half.id);
    expect((await studio.session.generate(PROMPT, GEN)).ids).toEqual(viaTheirs.ids);
    await studio.session.switchTo('base');

    // S²FT + its own exact LoRA form, ½ each, lands on S²FT's linears: a native (S²FT) fusion equal to S²FT.
    const exact = await studio.session.importAdapter(
      'exact.zip',
      (await studio.session.exportAdapter('peft-zip')).bytes,
    );
    const mixed = await studio.session.fuse([run.adapterId!, exact.id], [0.5, 0.5]);
    expect(mixed).toMatchObject({ kind: 'fused', fits: true });
    const s2ft = await studio.session.generate(PROMPT, { ...GEN, adapters: run.adapterId! });
    expect((await studio.session.generate(PROMPT, { ...GEN, adapters: mixed.id })).ids).toEqual(s2ft.ids);
  });

  it("downloads the fused model: a HuggingFace folder whose logits are the served adapter's", async () => {
    const a = run.adapterId!;
    const file = await studio.session.exportFusedModel([a], [1]);
    expect(file.fileName).toBe('tiny-fused.zip');
    const zip = unzipSync(new Uint8Array(file.bytes));
    const folder = new Map(
      Object.entries(zip).map(([name, bytes]) => [name.replace(/^tiny-fused\//, ''), bytes] as const),
    );
    expect([...folder.keys()].sort()).toEqual([
      'config.json',
      'model.safetensors',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    const reloaded = await loadCheckpoint(memorySource('tiny-fused', folder));
    expect(reloaded.dtype).toBe('F32'); // the fixture's own dtype
    // The same adapter fused by the core into the base the session loaded (an independent path).
    const base = await loadCheckpoint(memorySource('tiny', await checkpointFiles(fixtureConfig(), 3)));
    const adapter = decodeS2ftAdapter(new Uint8Array((await studio.session.exportAdapter('s2ft', a)).bytes), 'a');
    const expected = fuseAdapters(base.weights, [{ adapter, weight: 1 }]);
    const ids = tf.tensor2d([PROMPT], [1, PROMPT.length], 'int32');
    const got = forward({ config: reloaded.config, weights: reloaded.weights }, ids);
    const want = forward({ config: base.config, weights: expected }, ids);
    const maxDiff = tf.max(tf.abs(tf.sub(got, want))).dataSync()[0];
    console.log(`fused model reloaded vs core fuse: max |logit diff| ${maxDiff} (tol 1e-6)`);
    expect(maxDiff).toBeLessThanOrEqual(1e-6);
    tf.dispose([ids, got, want]);
    releaseReplacedWeights(expected, base.weights);
    disposeWeights(base.weights);
    disposeWeights(reloaded.weights);
  });

  it('keeps every adapter in its store: a new session lists and serves them; delete forgets them', async () => {
    const adapters = memoryAdapterStore();
    const first = await makeStudio({ adapters });
    await first.session.loadModel(BUILTIN_TINY);
    const file = await studio.session.exportAdapter('s2ft');
    const kept = await first.session.importAdapter('kept.s2ft.safetensors', file.bytes);
    const lora = await first.session.importAdapter('kept.zip', (await studio.session.exportAdapter('peft-zip')).bytes);
    const before = await first.session.generate(PROMPT, { ...GEN, adapters: kept.id });
    first.session.dispose();

    const second = await makeStudio({ adapters });
    await second.session.loadModel(BUILTIN_TINY);
    const listed = await second.session.listAdapters();
    expect(listed.map((a) => [a.id, a.name, a.kind, a.fits])).toEqual([
      [kept.id, 'kept.s2ft.safetensors', 's2ft', true],
      [lora.id, 'kept.zip', 'lora', true],
    ]);
    expect((await second.session.generate(PROMPT, { ...GEN, adapters: kept.id })).ids).toEqual(before.ids);
    await second.session.deleteAdapter(kept.id);
    expect((await adapters.list()).map((r) => r.id)).toEqual([lora.id]);
    await expect(second.session.generate(PROMPT, { ...GEN, adapters: kept.id })).rejects.toThrow(/no adapter with id/);
    second.session.dispose();
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
    // A trained LoRA fuses too: 1·L serves as L (B·A · alpha/r merged into the weights).
    const once = await studio.session.fuse([lora.adapterId!], [1]);
    expect(once).toMatchObject({ kind: 'lora', origin: 'fused' });
    expect((await studio.session.generate(PROMPT, { ...GEN, adapters: once.id })).ids).toEqual(current.ids);
    const memory = await studio.session.memory();
    expect(memory.backend).toBe('cpu');
    expect(memory.numTensors).toBe(tf.memory().numTensors);
  });
});
