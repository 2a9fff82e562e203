/**
 * Generation speed with and without the KV cache (a benchmark, not a test).
 *   npx tsx bench/generate.ts [--model DIR] [--tokens N] [--prompt-len P] [--quick]
 * Runs a checkpoint (--model) or a randomly initialised small LLaMA on the Node backend, and prints tokens/s plus the
 * time of the first and last quarter of the new tokens:
 * with the cache the per-token time stays flat as the position grows; without it, it grows.
 * Writes bench/results/generate.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../src/cli/lib/backend';
import { resolveModelDir } from '../src/cli/lib/modelArg';
import { loadCheckpoint } from '../src/core/io/checkpoint';
import { nodeDirectorySource } from '../src/core/io/nodeFiles';
import { generate } from '../src/core/model/generate';
import { disposeWeights, initWeights } from '../src/core/model/init';
import type { LlamaModel, ModelConfig } from '../src/core/model/types';

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const arg = (name: string, fallback: number): number => Number(flag(name) ?? fallback);
const quick = argv.includes('--quick');
const newTokens = arg('tokens', quick ? 16 : 64);
const promptLen = arg('prompt-len', quick ? 16 : 64);

const randomConfig: ModelConfig = {
  modelType: 'llama',
  vocabSize: 4096,
  hiddenSize: 256,
  intermediateSize: 640,
  numLayers: 6,
  numHeads: 8,
  numKvHeads: 4,
  headDim: 32,
  rmsNormEps: 1e-5,
  ropeTheta: 100000,
  ropeScaling: null,
  maxPositionEmbeddings: 2048,
  tieWordEmbeddings: true,
  attentionBias: false,
  bosTokenId: null,
  eosTokenIds: [],
};

async function loadModel(): Promise<LlamaModel> {
  const dir = flag('model');
  if (dir === undefined) return { config: randomConfig, weights: initWeights(randomConfig, 0) };
  const { config, weights } = await loadCheckpoint(await nodeDirectorySource(resolveModelDir(dir)));
  return { config, weights };
}

interface Run {
  tokensPerSecond: number;
  firstQuarterMsPerToken: number;
  lastQuarterMsPerToken: number;
}

async function timeRun(useCache: boolean, prompt: number[]): Promise<Run> {
  const stamps: number[] = [];
  const start = performance.now();
  await generate(model, prompt, {
    maxNewTokens: newTokens,
    useCache,
    stopTokenIds: [],
    onToken: () => stamps.push(performance.now()),
  });
  const total = (performance.now() - start) / 1000;
  const q = Math.max(1, Math.floor(newTokens / 4));
  // Token i's time is stamps[i] - stamps[i-1]; the first token also includes the prefill, so skip it.
  const perToken = stamps.slice(1).map((t, i) => t - stamps[i]);
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  return {
    tokensPerSecond: newTokens / total,
    firstQuarterMsPerToken: mean(perToken.slice(0, q)),
    lastQuarterMsPerToken: mean(perToken.slice(-q)),
  };
}

const backend = await initNodeBackend();
const model = await loadModel();
const { config, weights } = model;
const prompt = Array.from({ length: promptLen }, (_, i) => (i * 37) % config.vocabSize);
await timeRun(true, prompt.slice(0, 4)); // warm-up
const cached = await timeRun(true, prompt);
const uncached = await timeRun(false, prompt);
disposeWeights(weights);

const fmt = (r: Run) =>
  `${r.tokensPerSecond.toFixed(1).padStart(7)} tok/s   ms/token first quarter ${r.firstQuarterMsPerToken.toFixed(1).padStart(6)}, last quarter ${r.lastQuarterMsPerToken.toFixed(1).padStart(6)}`;
console.log(
  `generation on tfjs-${backend}: D=${config.hiddenSize} L=${config.numLayers} H=${config.numHeads}/${config.numKvHeads} V=${config.vocabSize}, prompt ${promptLen}, ${newTokens} new tokens`,
);
console.log(`  with KV cache    ${fmt(cached)}`);
console.log(`  without KV cache ${fmt(uncached)}`);
console.log(
  `  speed-up ×${(cached.tokensPerSecond / uncached.tokensPerSecond).toFixed(2)}; per-token growth with cache ×${(cached.lastQuarterMsPerToken / cached.firstQuarterMsPerToken).toFixed(2)}, without ×${(uncached.lastQuarterMsPerToken / uncached.firstQuarterMsPerToken).toFixed(2)}`,
);

const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'results');
mkdirSync(out, { recursive: true });
writeFileSync(
  path.join(out, 'generate.json'),
  JSON.stringify({ backend, config, promptLen, newTokens, cached, uncached, tfjs: tf.version_core }, null, 2),
);
