// The studio's worker session on qwen3 / gemma3_text (Node, tfjs cpu): a family checkpoint picked
// as files loads and its co-permuted o_proj view is the base weight gathered in the permuted head
// order; a config.json key the studio does not know, and a chat template that loops, reach the
// Model / Data panels as one-line messages naming them.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCheckpoint } from '../src/core/io/checkpoint';
import { disposeWeights } from '../src/core/model/init';
import { GEMMA3_NEW_LAYOUT, QWEN3_NEW_LAYOUT, randomFamilyModel } from '../src/core/model/testing/tinyFamilies';
import { tinyTokenizerConfig, tinyTokenizerJson } from '../src/core/model/testing/tinyTokenizer';
import { coPermutation } from '../src/core/s2ft/copermute';
import { asFiles, makeStudio, type Studio } from './workerFixtures';

let studio: Studio;
beforeAll(async () => {
  await tf.setBackend('cpu');
  studio = await makeStudio();
});
afterAll(() => studio.session.dispose());

/** A family checkpoint's files with the case's own config.json (plus `extra` keys) and the tiny tokenizer. */
async function familyFiles(
  json: Record<string, unknown>,
  extra: Record<string, unknown> = {},
  tokenizerConfig: object = tinyTokenizerConfig(),
): Promise<{ files: Map<string, Uint8Array>; o1: number[][] }> {
  const model = randomFamilyModel(json, 5);
  const files = await writeCheckpoint(model.config, model.weights, {
    files: { 'tokenizer.json': tinyTokenizerJson(), 'tokenizer_config.json': tokenizerConfig },
  });
  files.set('config.json', new TextEncoder().encode(JSON.stringify({ ...json, ...extra })));
  const o1 = (await model.weights.layers[1].linear.o_proj.array()) as number[][];
  disposeWeights(model.weights);
  return { files, o1 };
}

describe.each([
  { family: 'qwen3', json: QWEN3_NEW_LAYOUT },
  { family: 'gemma3_text', json: GEMMA3_NEW_LAYOUT },
])('$family in the worker session', ({ family, json }) => {
  it('loads from picked files and shows o_proj with the selected heads first (head_dim 12)', async () => {
    const { files, o1 } = await familyFiles(json);
    const info = await studio.session.loadModel({ kind: 'files', files: asFiles(family, files) });
    expect(info.config.modelType).toBe(family);
    const layers = Array.from({ length: info.config.numLayers }, () => ({ heads: [3, 1], channels: [2] }));
    await studio.session.useSelectionFile(JSON.stringify({ layers }), 'sel.json');
    const view = await studio.session.weightView({ layer: 1, module: 'o_proj', permuted: true, maxCells: 10_000 });
    const hd = info.config.headDim;
    expect(view.order).toEqual(coPermutation(info.config, layers[1]).headOrder.map(Number));
    expect(view.order.slice(0, 2)).toEqual([1, 3]);
    expect([view.rows, view.cols]).toEqual([32, 48]);
    let maxDiff = 0;
    for (let r = 0; r < view.rows; r++)
      for (let c = 0; c < view.cols; c++) {
        const original = view.order[Math.floor(c / hd)] * hd + (c % hd);
        maxDiff = Math.max(maxDiff, Math.abs(view.values[r * view.cols + c] - Math.abs(o1[r][original])));
      }
    console.log(`[${family}] weightView o_proj permuted: max |diff| vs direct gather ${maxDiff} (tol 0)`);
    expect(maxDiff).toBe(0);
  });

  it('refuses an unknown config.json key and stops a looping chat template, naming them', async () => {
    const { files } = await familyFiles(json, { logit_scale: 0.5 });
    await expect(studio.session.loadModel({ kind: 'files', files: asFiles(`${family}-x`, files) })).rejects.toThrow(
      /config\.json: logit_scale 0\.5 is not supported: the studio does not know how it changes the model's computation$/,
    );
    const looping = { ...tinyTokenizerConfig(), chat_template: '{% for i in range(10**9) %}x{% endfor %}' };
    const { files: loopFiles } = await familyFiles(json, {}, looping);
    await studio.session.loadModel({ kind: 'files', files: asFiles(`${family}-loop`, loopFiles) });
    const chat = JSON.stringify({
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'yo' },
      ],
    });
    await expect(
      studio.session.loadData(
        { kind: 'file', name: 'chat.jsonl', text: `${chat}\n${chat}\n` },
        { validationFraction: 0, seed: 0 },
      ),
    ).rejects.toThrow(/tokenizer_config\.json: chat_template was stopped after 0\.5 s/);
  });
});
