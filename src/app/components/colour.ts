/** Colour scales for heatmaps: diverging around zero for weights, sequential for scores. */

export type ColourScale = { kind: 'diverging'; limit: number } | { kind: 'sequential'; min: number; max: number };

type Rgb = [number, number, number];

const NEGATIVE: Rgb = [33, 102, 172];
const ZERO: Rgb = [247, 247, 247];
const POSITIVE: Rgb = [178, 24, 43];
const LOW: Rgb = [240, 244, 248];
const HIGH: Rgb = [8, 48, 107];

function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/** The colour of one value; `range` is the scale's span, passed in so a loop computes it once. */
export function colourFor(value: number, scale: ColourScale, range: number): Rgb {
  if (!Number.isFinite(value)) return [0, 0, 0];
  if (scale.kind === 'diverging') {
    const t = range > 0 ? Math.max(-1, Math.min(1, value / range)) : 0;
    return t < 0 ? mix(ZERO, NEGATIVE, -t) : mix(ZERO, POSITIVE, t);
  }
  const t = range > 0 ? Math.max(0, Math.min(1, (value - scale.min) / range)) : 0;
  return mix(LOW, HIGH, t);
}

/** A symmetric limit that ignores the most extreme 1% so a few outliers do not wash the map out. */
export function robustLimit(values: Float32Array): number {
  if (values.length === 0) return 1;
  const step = Math.max(1, Math.floor(values.length / 4096));
  const sample: number[] = [];
  for (let i = 0; i < values.length; i += step) sample.push(Math.abs(values[i]));
  sample.sort((a, b) => a - b);
  return sample[Math.floor(0.99 * (sample.length - 1))] || 1;
}

export function sequentialScale(values: ArrayLike<number>): ColourScale {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < min) min = values[i];
    if (values[i] > max) max = values[i];
  }
  return Number.isFinite(min) ? { kind: 'sequential', min, max } : { kind: 'sequential', min: 0, max: 1 };
}
