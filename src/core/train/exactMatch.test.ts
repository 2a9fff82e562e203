/**
 * exactMatch's one-pass teacher-forced verdict equals decoding each prompt greedily with
 * `generate` (KV cache, one token at a time) and comparing the new tokens with the answer, row by
 * row, over rows of mixed lengths in more than one forward pass, right and wrong answers alike; and
 * the same with the embedding and lm_head cut into row shards, ties across shards included.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../model/generate';
import { disposeWeights, initWeights } from '../model/init';
import { tinyConfig } from '../model/testing/tinyModels';
import type { LinearFn, LlamaModel } from '../model/types';
import { mulberry32 } from '../random';
import type { TokenizedExample } from './data';
import { exactMatch } from './exactMatch';

let model: LlamaModel;

beforeAll(async () => {
  await tf.setBackend('cpu');
  const config = tinyConfig({ eosTokenIds: [] });
  model = { config, weights: initWeights(config, 7, { std: 0.3 }) };
  return () => disposeWeights(model.weights);
});

const row = (prompt: number[], answer: number[]): TokenizedExample => ({
  inputIds: [...prompt, ...answer],
  lossMask: [...prompt.map(() => false), ...answer.map(() => true)],
  source: 1,
});

/** The independent verdict: greedy decoding from the prompt writes exactly the answer. */
async function greedyWrites(prompt: number[], answer: number[], linear?: LinearFn): Promise<boolean> {
  const out = await generate(model, prompt, { maxNewTokens: answer.length, stopTokenIds: [], linear });
  return out.ids.length === answer.length && out.ids.every((id, i) => id === answer[i]);
}

/** 70 rows (two passes of 64): prompts of 1–6 tokens, answers of 1–3; half greedy, half with one token off. */
async function rows(linear?: LinearFn): Promise<{ prompt: number[]; answer: number[] }[]> {
  const random = mulberry32(5);
  const V = model.config.vocabSize;
  const out: { prompt: number[]; answer: number[] }[] = [];
  for (let i = 0; i < 70; i++) {
    const prompt = Array.from({ length: 1 + Math.floor(random() * 6) }, () => Math.floor(random() * V));
    const length = 1 + Math.floor(random() * 3);
    const answer = (await generate(model, prompt, { maxNewTokens: length, stopTokenIds: [], linear })).ids;
    if (i % 2 === 1) {
      const at = Math.floor(random() * length);
      answer[at] = (answer[at] + 1 + Math.floor(random() * (V - 1))) % V;
    }
    out.push({ prompt, answer });
  }
  return out;
}

describe('exactMatch', () => {
  it('gives the verdict greedy generation gives, row by row', async () => {
    const cases = await rows();
    const expected = await Promise.all(cases.map((c) => greedyWrites(c.prompt, c.answer)));
    let agree = 0;
    for (const [i, c] of cases.entries()) {
      const one = await exactMatch(model, [row(c.prompt, c.answer)], { eosTokenId: null });
      if ((one.correct === 1) === expected[i]) agree++;
    }
    const all = await exactMatch(
      model,
      cases.map((c) => row(c.prompt, c.answer)),
      { eosTokenId: null },
    );
    const right = expected.filter(Boolean).length;
    const padded = await exactMatch(
      model,
      cases.map((c) => row(c.prompt, c.answer)),
      { eosTokenId: null, batchSize: 8, seqLen: 12 },
    );
    expect(padded).toEqual(all);
    console.log(
      `exact match: ${agree} of ${cases.length} rows agree with generate; ${all.correct} of ${all.total} right (generate: ${right})`,
    );
    expect(agree).toBe(cases.length);
    expect(all).toEqual({ correct: right, total: cases.length });
    expect(right).toBe(35); // the unchanged half; a token off never decodes greedily
  });

  it('scores with the linear override, as an adapter would', async () => {
    const shift: LinearFn = (x, weight, bias) =>
      tf.tidy(() => tf.add(tf.matMul(x, weight, false, true), bias ?? tf.scalar(0.05)) as tf.Tensor2D);
    const cases = (await rows(shift)).filter((_, i) => i % 2 === 0);
    const base = await exactMatch(
      model,
      cases.map((c) => row(c.prompt, c.answer)),
      { eosTokenId: null },
    );
    const adapted = await exactMatch(
      model,
      cases.map((c) => row(c.prompt, c.answer)),
      { eosTokenId: null, linear: shift },
    );
    const expectedBase = (await Promise.all(cases.map((c) => greedyWrites(c.prompt, c.answer)))).filter(Boolean).length;
    console.log(
      `with the override: ${adapted.correct} of ${adapted.total}; without: ${base.correct} (generate: ${expectedBase})`,
    );
    expect(adapted).toEqual({ correct: cases.length, total: cases.length });
    expect(base.correct).toBe(expectedBase);
  });

  it('reads the logits shard by shard with the same verdicts, ties going to the lowest id', async () => {
    const cases = await rows();
    const examples = cases.map((c) => row(c.prompt, c.answer));
    const whole = await exactMatch(model, examples, { eosTokenId: null });
    const { embedTokens, lmHead } = model.weights;
    const split = (w: tf.Tensor2D, at: number[]): tf.Tensor2D[] => tf.split(w, at, 0);
    // The same weights in uneven row shards of 20, 17 and 13 tokens.
    const sharded: LlamaModel = {
      config: model.config,
      weights: {
        ...model.weights,
        embedTokens: split(embedTokens[0], [20, 17, 13]),
        lmHead: lmHead && split(lmHead[0], [20, 17, 13]),
      },
    };
    const inShards = await exactMatch(sharded, examples, { eosTokenId: null });
    // lm_head rows 25–49 equal to rows 0–24: every maximum is tied across the two shards.
    const head = lmHead![0];
    const twice = tf.concat([head.slice([0, 0], [25, -1]), head.slice([0, 0], [25, -1])], 0) as tf.Tensor2D;
    const tied: LlamaModel = { config: model.config, weights: { ...model.weights, lmHead: [twice] } };
    const tiedShards: LlamaModel = {
      config: model.config,
      weights: { ...model.weights, lmHead: split(twice, [25, 25]) },
    };
    const tiedCases = await Promise.all(
      cases.map(async (c) => ({
        prompt: c.prompt,
        answer: (await generate(tied, c.prompt, { maxNewTokens: 2, stopTokenIds: [] })).ids,
      })),
    );
    const tiedRows = tiedCases.map((c) => row(c.prompt, c.answer));
    const tiedVerdict = await exactMatch(tiedShards, tiedRows, { eosTokenId: null });
    console.log(
      `sharded: ${inShards.correct} of ${inShards.total} (whole: ${whole.correct}); tied shards: ${tiedVerdict.correct} of ` +
        `${tiedVerdict.total} of generate's own answers, max answer id ${Math.max(...tiedCases.flatMap((c) => c.answer))}`,
    );
    expect(inShards).toEqual(whole);
    expect(tiedVerdict).toEqual({ correct: cases.length, total: cases.length });
    expect(Math.max(...tiedCases.flatMap((c) => c.answer))).toBeLessThan(25); // generate picks the lower id too
    tf.dispose([
      ...sharded.weights.embedTokens,
      ...(sharded.weights.lmHead ?? []),
      twice,
      ...tiedShards.weights.lmHead!,
    ]);
  });

  it('skips rows with no target after the first token and leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    const result = await exactMatch(model, [row([], [4]), row([3, 4], [])], { eosTokenId: null });
    expect(result).toEqual({ correct: 0, total: 0 });
    await exactMatch(model, [row([3, 4], [5])], { eosTokenId: 2 });
    expect(tf.memory().numTensors).toBe(before);
  });
});
