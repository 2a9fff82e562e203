/**
 * The studio's first run (src/app/settings.ts defaults on the embedded model) in Node on the
 * tfjs wasm backend, over several seeds (each seed orders the batches): held-out exact match on
 * public/datasets/number-words/test.jsonl before and after, the number the Train panel shows.
 *   npx tsx bench/experiments/firstRun.ts [--seeds 5]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { modelDefaults } from '../../src/app/requests';
import { DEFAULT_SETTINGS } from '../../src/app/settings';
import { TOKENIZER_FILE, loadCheckpoint } from '../../src/core/io/checkpoint';
import { nodeDirectorySource } from '../../src/core/io/nodeFiles';
import { loadTokenizer } from '../../src/core/model/tokenizer';
import type { LlamaModel } from '../../src/core/model/types';
import { selectUnits } from '../../src/core/s2ft/selection';
import { BatchStream } from '../../src/core/train/batches';
import { parseDataset } from '../../src/core/train/data';
import { exactMatch } from '../../src/core/train/exactMatch';
import { prepareMethod } from '../../src/core/train/methods';
import { initNodeBackend } from '../../src/cli/backend';
import { pickTrainConfig } from '../../src/core/train/config';
import { Trainer } from '../../src/core/train/trainer';

const argv = process.argv.slice(2);
const seeds = argv.includes('--seeds') ? Number(argv[argv.indexOf('--seeds') + 1]) : 5;
const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const pct = (m: { correct: number; total: number }) => `${((100 * m.correct) / m.total).toFixed(1)}%`;

async function main(): Promise<void> {
  const backend = await initNodeBackend();
  const loaded = await loadCheckpoint(await nodeDirectorySource(path.join(root, 'public/models/moby-llama-800k')));
  if (!loaded.tokenizerJson) throw new Error('the embedded model has no tokenizer');
  const tokenizer = loadTokenizer(loaded.tokenizerJson, loaded.tokenizerConfig, TOKENIZER_FILE);
  const base: LlamaModel = { config: loaded.config, weights: loaded.weights };
  const s = { ...DEFAULT_SETTINGS, ...modelDefaults(base.config, DEFAULT_SETTINGS) };
  const index = JSON.parse(readFileSync(path.join(root, 'public/datasets/index.json'), 'utf8')) as {
    datasets: { name: string; file: string; validation?: string }[];
  };
  const entry = index.datasets.find((d) => d.name === s.dataset);
  if (!entry?.validation) throw new Error(`${s.dataset} has no held-out split`);
  const read = (file: string) =>
    parseDataset(readFileSync(path.join(root, 'public/datasets', file), 'utf8'), file, { tokenizer });
  const train = read(entry.file);
  const test = read(entry.validation);
  const { selection } = await selectUnits(base, {
    strategy: s.strategy,
    pick: s.pick,
    budget: { kind: 'perLayer', heads: s.headsPerLayer, channels: s.channelsPerLayer },
    modules: { oProj: s.oProj, downProj: s.downProj, vProj: s.vProj, upProj: s.upProj },
    seed: s.selectionSeed,
  });
  const score = (weights = base.weights, linear?: Parameters<typeof exactMatch>[2]['linear']) =>
    exactMatch({ config: base.config, weights }, test.examples, { linear, eosTokenId: train.eosTokenId });
  console.log(
    `${loaded.name} on ${backend}: ${s.method}, ${s.strategy}-${s.pick} ${s.headsPerLayer} head(s) and ` +
      `${s.channelsPerLayer} channels a layer, ${s.steps} steps of ${s.batchSize} × ${s.seqLen}, lr ${s.lr}; ` +
      `held-out exact match before: ${pct(await score())}`,
  );
  const after: number[] = [];
  for (let seed = 0; seed < seeds; seed++) {
    const stream = new BatchStream(train, {
      batchSize: s.batchSize,
      seqLen: s.seqLen,
      seed,
      pack: false,
      shuffle: true,
    });
    const prepared = prepareMethod(s.method, base, { selection, lora: { rank: s.loraRank, seed } });
    const trainer = new Trainer(prepared, base.config, stream, pickTrainConfig({ ...s, seed }));
    const t0 = performance.now();
    const result = await trainer.run();
    const m = await score(prepared.weights, prepared.linear);
    after.push(m.correct / m.total);
    console.log(
      `seed ${seed}: loss ${result.history[0].loss.toFixed(3)} → ${result.history.at(-1)!.loss.toFixed(3)}, ` +
        `held-out exact match after: ${pct(m)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
    trainer.dispose();
    prepared.dispose();
  }
  const sorted = [...after].sort((a, b) => a - b);
  console.log(
    `after, over ${seeds} seeds: min ${(100 * sorted[0]).toFixed(1)}%, median ` +
      `${(100 * sorted[Math.floor(seeds / 2)]).toFixed(1)}%, max ${(100 * sorted.at(-1)!).toFixed(1)}%`,
  );
}

void main();
