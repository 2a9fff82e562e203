/**
 * Peak tensor bytes of one training step of S²FT, LoRA (matched parameters) and full FT on the
 * activation-dominated shape (the embedded model's config, batch 16 × 128 by default), counted
 * on the cpu backend where byte counts are deterministic. The quick check behind the README's
 * note on the fused forward ops; `npm run bench` gives the full tables.
 *   npx tsx bench/experiments/stepMemory.ts [B] [T]
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { parseConfig } from '../../src/core/model/config';
import { compareMethods } from '../lib/compare';

const B = Number(process.argv[2] ?? 16), T = Number(process.argv[3] ?? 128);
const MODEL = 'public/models/moby-llama-800k/config.json';
await tf.setBackend('cpu');
const config = parseConfig(JSON.parse(readFileSync(MODEL, 'utf8')), MODEL);
const result = await compareMethods({
  shape: 'activation-dominated', description: `${MODEL}, batch ${B} × ${T}`, config, batchSize: B, seqLen: T,
  loraRank: 8, warmup: 1, timed: 1, seed: 0, matmulFlopsPerSec: 1,
});
const peak = Object.fromEntries(result.methods.map((m) => [m.method, m.peakBytes]));
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
console.log(`peak tensor bytes, batch ${B} × ${T}: S²FT ${mib(peak.s2ft)}, LoRA ${mib(peak.lora)}, full FT ${mib(peak.full)}`);
console.log(`S²FT/full ${(peak.s2ft / peak.full).toFixed(3)}, S²FT/LoRA ${(peak.s2ft / peak.lora).toFixed(3)}`);
