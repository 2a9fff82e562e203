// The bugs fuzzing found, each pinned by the smallest input that showed it:
//  1. a deeply nested value in any checked field made the error message's JSON.stringify overflow
//     the stack (RangeError instead of a UserError) in the safetensors, config, adapter, selection
//     and shard-index readers (fixed with src/core/describeJson.ts);
//  2. a selection layer with a "__proto__", "constructor" or "toString" key passed as a known
//     field (the check used `in`, which sees Object.prototype);
//  3. an adapter's s2ft_config accepted integers beyond 2^53 (not exact) as model dimensions;
//  4. a config.json claiming 2^40 layers made the checkpoint loader list 2^40 · 9 tensor names
//     before noticing the files do not hold them (a hang, then out of memory).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors';
import { loadCheckpoint, writeCheckpoint } from '../../src/core/io/checkpoint';
import { memorySource } from '../../src/core/io/fileSource';
import { parseSafetensors } from '../../src/core/io/safetensors';
import { parseConfig, toHfConfig } from '../../src/core/model/config';
import { disposeWeights, initWeights } from '../../src/core/model/init';
import { tinyConfig } from '../../src/core/model/testing/tinyModels';
import { decodeS2ftAdapter, encodeS2ftAdapter } from '../../src/core/s2ft/adapter';
import { readSelectionFile } from '../../src/core/s2ft/selectionFile';
import { randomAdapter } from '../../src/core/s2ft/testing/randomAdapter';
import { assembleSafetensors, splitSafetensors } from './harness';

const DEEP = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
const config = tinyConfig();

function refusal(f: () => unknown): UserError {
  try {
    f();
  } catch (e) {
    if (!(e instanceof UserError))
      throw new Error(`expected a UserError, got ${(e as Error).name}: ${(e as Error).message}`, { cause: e });
    return e;
  }
  throw new Error('accepted');
}

describe('fuzzing regressions', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('1. deep nesting in a checked field is refused with a short UserError, not a stack overflow', async () => {
    const messages: string[] = [];
    const st = (header: string) =>
      refusal(() => parseSafetensors(assembleSafetensors(header, new Uint8Array(8)), 'deep.safetensors'));
    messages.push(st(`{"t":{"dtype":"F32","shape":${DEEP},"data_offsets":[0,8]}}`).message);
    messages.push(st(`{"__metadata__":{"format":${DEEP}}}`).message);
    messages.push(st(`{"t":{"dtype":"F32","shape":[2],"data_offsets":${DEEP}}}`).message);
    messages.push(st(`{"t":{"dtype":${DEEP},"shape":[2],"data_offsets":[0,8]}}`).message);

    const hf = JSON.stringify(toHfConfig(config));
    for (const field of ['model_type', 'hidden_size', 'hidden_act', 'rope_theta', 'eos_token_id']) {
      const json = JSON.parse(hf.replace(/}$/, `,"${field}":${DEEP}}`).replace(`"${field}":`, `"${field}_was":`));
      messages.push(refusal(() => parseConfig(json, 'config.json')).message);
    }
    messages.push(
      refusal(() => parseConfig(JSON.parse(hf.replace(/}$/, `,"rope_scaling":{"rope_type":${DEEP}}}`)))).message,
    );

    const adapter = randomAdapter(
      config,
      {
        layers: [
          { heads: [1], channels: [2] },
          { heads: [0], channels: [3] },
        ],
      },
      1,
    );
    const { header, data } = splitSafetensors(encodeS2ftAdapter(adapter.blocks, adapter.info));
    const h = JSON.parse(header) as { __metadata__: Record<string, string> };
    h.__metadata__.s2ft_config = h.__metadata__.s2ft_config.replace('"peft_type":"S2FT"', `"peft_type":${DEEP}`);
    messages.push(
      refusal(() => decodeS2ftAdapter(assembleSafetensors(JSON.stringify(h), data), 'deep-adapter.safetensors'))
        .message,
    );

    messages.push(
      refusal(() =>
        readSelectionFile(`{"layers":[{"heads":[${DEEP}],"channels":[]},{"heads":[],"channels":[]}]}`, config),
      ).message,
    );

    const weights = initWeights(config, 1);
    const files = await writeCheckpoint(config, weights, { maxShardBytes: 4096 });
    disposeWeights(weights);
    const index = JSON.parse(new TextDecoder().decode(files.get('model.safetensors.index.json')!)) as {
      weight_map: Record<string, unknown>;
    };
    const first = Object.keys(index.weight_map)[0];
    const text = JSON.stringify(index).replace(`"${first}":"`, `"${first}":${DEEP},"was":"`);
    files.set('model.safetensors.index.json', new TextEncoder().encode(text));
    await loadCheckpoint(memorySource('deep-index', files)).then(
      () => {
        throw new Error('accepted');
      },
      (e: unknown) => {
        expect(e).toBeInstanceOf(UserError);
        messages.push((e as UserError).message);
      },
    );

    for (const m of messages) expect(m.length).toBeLessThan(400);
    console.log(`deep nesting refused ${messages.length} times, e.g. ${messages[0]}`);
  });

  it('2. prototype keys in a selection layer are refused as unknown fields', () => {
    for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const text = `{"layers":[{"heads":[1],"channels":[2],"${key}":null},{"heads":[],"channels":[]}]}`;
      const e = refusal(() => readSelectionFile(text, config, 'sel.json'));
      expect(e.message).toBe(
        `sel.json: layers[0] has unknown field "${key}" (expected heads, channels, vHeads, upChannels)`,
      );
    }
  });

  it('3. adapter dimensions beyond 2^53 are refused', () => {
    const adapter = randomAdapter(
      config,
      {
        layers: [
          { heads: [], channels: [] },
          { heads: [], channels: [] },
        ],
      },
      1,
    );
    const { header, data } = splitSafetensors(encodeS2ftAdapter(adapter.blocks, adapter.info));
    const h = JSON.parse(header) as { __metadata__: Record<string, string> };
    h.__metadata__.s2ft_config = h.__metadata__.s2ft_config.replace('"num_layers":2', '"num_layers":9007199254740993');
    const e = refusal(() => decodeS2ftAdapter(assembleSafetensors(JSON.stringify(h), data), 'big.safetensors'));
    expect(e.message).toMatch(/s2ft_config.model.num_layers must be a positive integer, got 9007199254740992/);
  });

  it('4. a config.json claiming 2^40 layers is refused from the files it has, at once', async () => {
    const small = tinyConfig({ numLayers: 1 });
    const weights = initWeights(small, 1);
    const files = await writeCheckpoint(small, weights, { configExtra: { num_hidden_layers: 2 ** 40 } });
    disposeWeights(weights);
    const started = performance.now();
    const e = await loadCheckpoint(memorySource('claims-many-layers', files)).then(
      () => null,
      (err: unknown) => err as UserError,
    );
    const ms = performance.now() - started;
    console.log(`2^40 layers refused in ${ms.toFixed(1)} ms: ${e?.message}`);
    expect(e).toBeInstanceOf(UserError);
    expect(e!.code).toBe('bad-file');
    expect(e!.message).toMatch(
      /config.json says num_hidden_layers = 1099511627776, but model.safetensors holds only 12 tensors \(a layer has 9\)/,
    );
    expect(ms).toBeLessThan(1000);
  });
});
