/**
 * Rotary position embedding exactly as HF transformers computes it (LlamaRotaryEmbedding):
 * inverse frequencies in float32, optional "llama3" scaling of those frequencies, cos/sin tables
 * of `cat(freqs, freqs)`, and the rotate-half convention `x·cos + rotate_half(x)·sin`.
 * Tables are computed in plain JS with float32 rounding at each step (Math.fround) so that they
 * agree with PyTorch's float32 arithmetic, including at large positions.
 */
import * as tf from '@tensorflow/tfjs';
import { releasing } from './fusedOps';
import type { LayerType, ModelConfig } from './types';

const f32 = Math.fround;

/**
 * inv_freq[i] = 1 / theta^(2i/hd), i < hd/2, then llama3-scaled when configured. Sliding layers
 * of a model with a local base (gemma3_text) use plain RoPE on that base. [hd/2]
 */
export function ropeInvFreq(config: ModelConfig, kind: LayerType = 'full_attention'): Float32Array {
  const localTheta = kind === 'sliding_attention' ? config.localRopeTheta : undefined;
  const local = localTheta !== undefined;
  const theta = localTheta ?? config.ropeTheta;
  const hd = config.headDim;
  const invFreq = new Float32Array(hd / 2);
  for (let i = 0; i < hd / 2; i++) invFreq[i] = f32(1 / f32(Math.pow(theta, f32((2 * i) / hd))));
  const s = local ? null : config.ropeScaling;
  if (s === null) return invFreq;
  // HF `_compute_llama3_parameters`: keep high frequencies, divide low ones by `factor`,
  // interpolate smoothly in between.
  const lowFreqWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
  const highFreqWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
  const scaled = new Float32Array(hd / 2);
  for (let i = 0; i < hd / 2; i++) {
    const wavelen = f32(f32(2 * Math.PI) / invFreq[i]);
    const base = wavelen > lowFreqWavelen ? f32(invFreq[i] / s.factor) : invFreq[i];
    const isMedium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
    if (!isMedium) {
      scaled[i] = base;
      continue;
    }
    const smooth = f32(
      f32(f32(s.originalMaxPositionEmbeddings / wavelen) - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor),
    );
    scaled[i] = f32(f32(f32(f32(1 - smooth) * base) / s.factor) + f32(smooth * base));
  }
  return scaled;
}

/** cos/sin tables for positions offset … offset+T-1: each [T, hd] = cat(freqs, freqs). */
export function ropeTables(invFreq: Float32Array, offset: number, T: number): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  const half = invFreq.length;
  const hd = 2 * half;
  const cos = new Float32Array(T * hd);
  const sin = new Float32Array(T * hd);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const angle = f32(invFreq[i] * (offset + t));
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      cos[t * hd + i] = c;
      cos[t * hd + half + i] = c;
      sin[t * hd + i] = s;
      sin[t * hd + half + i] = s;
    }
  }
  return { cos: tf.tensor2d(cos, [T, hd]), sin: tf.tensor2d(sin, [T, hd]) };
}

/** HF rotate_half: split the head dim in halves (x1, x2) and return cat(-x2, x1). */
function rotateHalf(x: tf.Tensor4D): tf.Tensor4D {
  const half = x.shape[3] / 2;
  const [x1, x2] = tf.split(x, [half, half], 3) as tf.Tensor4D[]; // [B, H, T, hd/2] each
  return tf.concat4d([x2.neg(), x1], 3); // [B, H, T, hd]
}

/**
 * x·cos + rotate_half(x)·sin as autodiff would see it: applyRope's reference (fusedOps.test.ts).
 * x: [B, H, T, hd], cos/sin: [T, hd] → [B, H, T, hd]
 */
export function ropeFormula(x: tf.Tensor4D, cos: tf.Tensor2D, sin: tf.Tensor2D): tf.Tensor4D {
  return tf.add(tf.mul(x, cos), tf.mul(rotateHalf(x), sin)) as tf.Tensor4D; // [B, H, T, hd] (cos/sin broadcast)
}

/**
 * rotate_half(x) = x[…, swap] · sign with swap = (h … hd−1, 0 … h−1), sign = (−1 × h, +1 × h),
 * h = hd / 2: one gather along the head dim, the sign folded into a [T, hd] table. (Split, negate
 * and concat are three passes, and tfjs-wasm's SplitV and Concat copy each 16-float run on its
 * own: bench/PROFILE.md §5.5.)  → swap [hd] int32, sign [hd]
 */
function halfSwap(hd: number): { swap: tf.Tensor1D; sign: tf.Tensor1D } {
  const h = hd / 2;
  const swap = Int32Array.from({ length: hd }, (_, i) => (i + h) % hd);
  const sign = Float32Array.from({ length: hd }, (_, i) => (i < h ? -1 : 1));
  return { swap: tf.tensor1d(swap, 'int32'), sign: tf.tensor1d(sign) };
}

/**
 * RoPE as one op with its own gradient. The rotation is linear in x, y = x·cos + R(x)·sin with
 * R(x1, x2) = (−x2, x1), and Rᵀ = −R, so dx = dy·cos − R(dy·sin): the backward needs only the
 * tables, and the op saves nothing (autodiff of the formula keeps x, its halves and products
 * for every q and k of every layer). R is a gather (halfSwap), so
 *   y = x·cos + x[…, swap]·(sign·sin),   dx = dy·cos − dy[…, swap]·(sign·sin[:, swap]),
 * the same products as the formula's, bit for bit (a sign moved between factors).
 * x: [B, H, T, hd], cos/sin: [T, hd] → [B, H, T, hd]
 */
export function applyRope(x: tf.Tensor4D, cos: tf.Tensor2D, sin: tf.Tensor2D): tf.Tensor4D {
  const hd = x.shape[3];
  // The tables are inputs (not captured) so the tape keeps them past the forward's tidy.
  const op = tf.customGrad((xIn, cosIn, sinIn, save) => {
    const [c, s] = [cosIn as tf.Tensor2D, sinIn as tf.Tensor2D]; // [T, hd] each
    (save as tf.GradSaveFunc)([c, s]);
    const { swap, sign } = halfSwap(hd);
    const xs = xIn as tf.Tensor4D;
    return {
      value: tf.add(tf.mul(xs, c), tf.mul(tf.gather(xs, swap, 3), tf.mul(s, sign))) as tf.Tensor4D, // [B, H, T, hd]
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        releasing(dy, saved, () => {
          const [cs, sn] = saved;
          const r = halfSwap(hd);
          const sinBack = tf.mul(tf.gather(sn, r.swap, 1), r.sign); // [T, hd]
          const dx = tf.sub(tf.mul(dy, cs), tf.mul(tf.gather(dy, r.swap, 3), sinBack)); // [B, H, T, hd]
          return [dx, tf.zerosLike(cs), tf.zerosLike(sn)]; // the tables are constants
        }),
    };
  });
  return op(x, cos, sin) as tf.Tensor4D;
}
