/**
 * What one training step holds at its peak, per method: the peak bytes (distinct buffers,
 * src/core/train/memory.ts) of S²FT, LoRA (matched parameters) and full FT, and the buffers the
 * step created that are alive at that moment, grouped by shape: the breakdown behind
 * bench/PROFILE.md §1.2. Counted on the cpu backend, where byte counts are deterministic.
 *   npx tsx bench/experiments/stepMemory.ts [activation|weights] [top]
 * activation: the embedded model's config at batch 16 × 128; weights: the weights-dominated
 * shape of the bench at batch 1 × 128.
 */
import * as tf from '@tensorflow/tfjs';
import { measurePeakBytes, type PeakBuffer } from '../../src/core/train/memory';
import { trainConfig } from '../../src/core/train/config';
import { Trainer } from '../../src/core/train/trainer';
import { METHODS, prepareOn, randomFeed } from '../lib/compare';
import { defaultModelConfig, WEIGHTS_DOMINATED } from '../lib/configs';

const shape = process.argv[2] ?? 'activation';
if (shape !== 'activation' && shape !== 'weights') throw new Error(`shape must be activation or weights, got ${shape}`);
const top = Number(process.argv[3] ?? 6);
const config = shape === 'activation' ? defaultModelConfig().config : WEIGHTS_DOMINATED;
const [B, T] = shape === 'activation' ? [16, 128] : [1, 128];
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

/** The buffers grouped by shape, largest total first: "2048x352 ×21 57.8 MiB". */
function byShape(buffers: PeakBuffer[]): string[] {
  const groups = new Map<string, { count: number; bytes: number }>();
  for (const b of buffers) {
    const key = b.shape.join('x') || 'scalar';
    const g = groups.get(key) ?? { count: 0, bytes: 0 };
    groups.set(key, { count: g.count + 1, bytes: g.bytes + b.bytes });
  }
  return [...groups]
    .sort((a, b) => b[1].bytes - a[1].bytes)
    .slice(0, top)
    .map(([key, g]) => `${key} ×${g.count} ${mib(g.bytes)}`);
}

await tf.setBackend('cpu');
const peaks: Record<string, number> = {};
const held: Record<string, number> = {};
for (const method of METHODS) {
  const { prepared, release } = await prepareOn(method, config, 0, 8);
  const trainer = new Trainer(
    prepared,
    config,
    randomFeed(config.vocabSize, B, T, 0),
    trainConfig({ steps: 2, lr: 1e-4, schedule: 'constant', batchSize: B }),
    [],
    { profileMemory: 'never' },
  );
  await trainer.step(); // optimizer state exists from here
  const m = await measurePeakBytes(() => trainer.step(), { recordPeakBuffers: true });
  peaks[method] = m.peakBytes;
  held[method] = m.startBytes;
  console.log(
    `${method}: held ${mib(m.startBytes)} before the step, peak ${mib(m.peakBytes)} (+${mib(m.stepPeakBytes)}); ` +
      `at the peak: ${byShape(m.peakBuffers).join(', ')}`,
  );
  trainer.dispose();
  release();
}
console.log(
  `${shape}-dominated, batch ${B} × ${T}: S²FT/full ${(peaks.s2ft / peaks.full).toFixed(3)}, S²FT/LoRA ${(peaks.s2ft / peaks.lora).toFixed(3)}`,
);
// What the S²FT/LoRA peak ratio is bounded by when both start from the same held bytes (the frozen weights):
// even an S²FT step that added nothing would be held / (held + LoRA's extra over S²FT).
const step = (m: string) => peaks[m] - held[m];
const loraExtra = step('lora') - step('s2ft');
console.log(
  `the steps alone: S²FT/LoRA ${(step('s2ft') / step('lora')).toFixed(3)}; LoRA's step adds ${mib(loraExtra)} more than S²FT's; ` +
    `an S²FT step that added nothing: S²FT/LoRA ${(held.s2ft / (held.lora + loraExtra)).toFixed(3)}`,
);
