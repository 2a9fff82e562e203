/**
 * Analytic FLOPs (2 per multiply-add) of one training step, from the configuration alone.
 * Only matmuls are counted; elementwise work (norms, softmax, rope, the optimizer) is a few %
 * and is what "achieved FLOP/s" leaves out.
 *
 *   forward   2·N·Σ(in·out) over the decoder linears  +  2·N·D·V (lm_head)  +  4·B·H·T²·hd (attention)
 *   backward  dx of every linear and of lm_head (every method: the gradient flows through them),
 *             dW of every linear and of lm_head (full FT only), 2.5× the attention matmuls (q kᵀ
 *             recomputed, then dv, dp, dq, dk; fusedOps.groupedAttention), plus each method's own
 *             adapter work (below).
 * N = B·T. Attention is counted over the full T×T square because tfjs computes the masked half too.
 */
import type { ModelConfig } from '../../src/core/model/types';

/** A trained S²FT block: `k` columns (o/down) or rows (v/up) of an [out, in] weight. */
export interface BlockShape {
  axis: 'columns' | 'rows';
  out: number;
  in: number;
  k: number;
}
/** A LoRA pair on an [out, in] weight. */
export interface LoraShape {
  out: number;
  in: number;
  rank: number;
}

export type MethodShape =
  { method: 'full' } | { method: 's2ft'; blocks: BlockShape[] } | { method: 'lora'; pairs: LoraShape[] };

/** Σ in·out of the seven decoder linears of one layer. */
export function layerLinearParams(c: ModelConfig): number {
  const { hiddenSize: D, intermediateSize: F, numHeads: H, numKvHeads: Hkv, headDim: hd } = c;
  return D * H * hd + 2 * D * Hkv * hd + H * hd * D + 3 * D * F;
}

/** FLOPs of the forward pass (no adapters). */
export function forwardFlops(c: ModelConfig, B: number, T: number): number {
  const N = B * T;
  const linear = 2 * N * layerLinearParams(c) * c.numLayers;
  const head = 2 * N * c.hiddenSize * c.vocabSize;
  const attention = 4 * B * c.numHeads * T * T * c.headDim * c.numLayers;
  return linear + head + attention;
}

/** FLOPs of one step (forward + backward) of a method. */
export function stepFlops(c: ModelConfig, B: number, T: number, shape: MethodShape): number {
  const N = B * T;
  const linear = 2 * N * layerLinearParams(c) * c.numLayers;
  const head = 2 * N * c.hiddenSize * c.vocabSize;
  const attention = 4 * B * c.numHeads * T * T * c.headDim * c.numLayers;
  const base = 2 * (linear + head) + 3.5 * attention; // forward + dx; attention 1 + 2.5
  switch (shape.method) {
    case 'full':
      return base + linear + head; // + dW of every weight
    case 's2ft':
      // As sparseLinear.ts chooses: through the effective weight W' (N ≥ out for columns, N ≥ in
      // for rows) the frozen matmuls carry S and only dS is extra; through the small products,
      // the forward product, dS and the product for dx (spreading is a gather, no FLOPs).
      return (
        base +
        shape.blocks.reduce((sum, b) => {
          const width = b.axis === 'columns' ? b.out : b.in; // S's dimension besides k
          return sum + 2 * N * b.k * width * (N >= width ? 1 : 3);
        }, 0)
      );
    case 'lora':
      // fwd x Aᵀ, (x Aᵀ) Bᵀ; bwd dB, d(xAᵀ), dA, dx: twice the forward
      return base + shape.pairs.reduce((sum, p) => sum + 3 * 2 * N * p.rank * (p.in + p.out), 0);
  }
}
