/**
 * Partial back-propagation (paper §3.3) as explicit forward/backward pairs, llm.c style: each
 * linear has a `…Forward` and a `…Backward` with matching argument names, wired together by
 * `tf.customGrad`. x: [N, in], W: [out, in] (HF layout, y = x Wᵀ + b), N = batch · tokens.
 *
 *   frozenLinear       y = x Wᵀ + b                      saves nothing     dx = dy W
 *   columnBlockLinear  y = x Wᵀ + x[:, J] Sᵀ + b         saves x[:, J]     dS = dyᵀ x[:, J]
 *                                                                          dx = dy W + scatter_J(dy S)
 *   rowBlockLinear     y = x Wᵀ + scatter_I(x Sᵀ) + b    saves x           dS = dy[:, I]ᵀ x
 *                                                                          dx = dy W + dy[:, I] S
 *
 * W and b are captured by closure, never passed to customGrad: the tape then has no path to
 * them, so no weight gradient is ever requested or computed. The only customGrad inputs are x
 * and the trainable block S, so the only gradients returned are dx and dS.
 *
 * Memory. tfjs runs a customGrad's forward inside its own tidy, so what a block computes but
 * does not `save` (x Wᵀ before the add, the full x of a column block) is freed as soon as the
 * block returns, and `save` keeps only the slice it names. The block's OUTPUT, however, belongs
 * to the caller's scope, and under tf.variableGrads the whole forward is one scope that ends only
 * after the loss. So the forward must run each decoder block in its own tf.tidy (freeing the
 * block's internal intermediates) and dispose the block's input once the next block has consumed
 * it (tidy cannot: that tensor belongs to the enclosing scope). The tape does not need either:
 * a backward reads only what was saved. Without this, peak memory is that of plain autodiff.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * The selected indices J (columns of a column block, rows of a row block) in the two forms the
 * pair needs: as an int32 tensor for gathers and as a one-hot [k, size] matrix for scatters.
 *
 * Why a one-hot matmul for scatter_J: scatter_J(dy S) = (dy S) P with P = one-hot(J) [k, in] is
 * one dense matmul of N·k·in multiply-adds, k/out of the dy W matmul we do anyway (a few % at
 * the paper's budgets), on every backend's tuned matmul kernel, and it creates no temporary
 * beyond its [N, in] result. tf.scatterND would need (dy S)ᵀ, a scatter into [in, N] and a
 * transpose back: two extra [N, in] temporaries and two memory-bound passes, which on WebGPU
 * cost more than the small matmul. P itself is k·in floats, k/out the size of W.
 */
export interface BlockIndex {
  indices: tf.Tensor1D;   // [k] int32
  oneHot: tf.Tensor2D;    // [k, size] float32, oneHot[j, indices[j]] = 1
  dispose(): void;
}

export function makeBlockIndex(indices: Int32Array, size: number): BlockIndex {
  const idx = tf.tensor1d(indices, 'int32');                       // [k]
  const oneHot = tf.tidy(() => tf.oneHot(idx, size).toFloat()) as tf.Tensor2D; // [k, size]
  return { indices: idx, oneHot, dispose: () => { idx.dispose(); oneHot.dispose(); } };
}

// ---------------------------------------------------------------- frozen linear

/** y = x Wᵀ + b.  x [N, in], W [out, in], b [out] → [N, out] */
export function frozenLinearForward(x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D | null): tf.Tensor2D {
  const y = tf.matMul(x, weight, false, true) as tf.Tensor2D;      // [N, out]
  return bias ? tf.add(y, bias) as tf.Tensor2D : y;                // [N, out]
}

/** dx = dy W.  dy [N, out], W [out, in] → [N, in]. No dW, no db: the weight is frozen. */
export function frozenLinearBackward(dy: tf.Tensor2D, weight: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(dy, weight);                                    // [N, in]
}

/** A frozen linear layer: forward x Wᵀ + b, backward dx only, saves nothing. */
export function frozenLinear(x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D | null): tf.Tensor2D {
  const op = tf.customGrad((xIn) => ({
    value: frozenLinearForward(xIn as tf.Tensor2D, weight, bias),   // [N, out]
    gradFunc: (dy: tf.Tensor) => tf.tidy(() => frozenLinearBackward(dy as tf.Tensor2D, weight)), // [N, in]
  }));
  return op(x) as tf.Tensor2D;
}

// ---------------------------------------------------------------- column block (o_proj, down_proj)

/**
 * y = x Wᵀ + x[:, J] Sᵀ + b, and the one slice the backward needs.
 * x [N, in], W [out, in], S [out, k] → y [N, out], xJ [N, k]
 */
export function columnBlockForward(x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D | null,
  block: tf.Tensor2D, columns: BlockIndex): { y: tf.Tensor2D; xJ: tf.Tensor2D } {
  const xJ = tf.gather(x, columns.indices, 1) as tf.Tensor2D;       // [N, k]
  const base = frozenLinearForward(x, weight, bias);               // [N, out]
  const y = tf.add(base, tf.matMul(xJ, block, false, true)) as tf.Tensor2D; // [N, out]
  return { y, xJ };
}

/**
 * dS = dyᵀ x[:, J];  dx = dy W + scatter_J(dy S).
 * dy [N, out], xJ [N, k], W [out, in], S [out, k] → dx [N, in], dBlock [out, k]
 */
export function columnBlockBackward(dy: tf.Tensor2D, xJ: tf.Tensor2D, weight: tf.Tensor2D,
  block: tf.Tensor2D, columns: BlockIndex): { dx: tf.Tensor2D; dBlock: tf.Tensor2D } {
  const dBlock = tf.matMul(dy, xJ, true, false) as tf.Tensor2D;    // [out, k]
  const dxJ = tf.matMul(dy, block);                                // [N, k]
  const dx = tf.add(frozenLinearBackward(dy, weight), tf.matMul(dxJ, columns.oneHot)) as tf.Tensor2D; // [N, in]
  return { dx, dBlock };
}

/** A linear whose columns J are trained as the dense block S [out, k]; saves only x[:, J]. */
export function columnBlockLinear(x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D | null,
  block: tf.Variable, columns: BlockIndex): tf.Tensor2D {
  const op = tf.customGrad((xIn, blockIn, save) => {
    const s = blockIn as tf.Tensor2D;                              // [out, k]
    const { y, xJ } = columnBlockForward(xIn as tf.Tensor2D, weight, bias, s, columns);
    (save as tf.GradSaveFunc)([xJ]);
    return {
      value: y,                                                    // [N, out]
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.tidy(() => {
        const { dx, dBlock } = columnBlockBackward(dy as tf.Tensor2D, saved[0] as tf.Tensor2D, weight, s, columns);
        return [dx, dBlock];
      }),
    };
  });
  return op(x, block) as tf.Tensor2D;
}

// ---------------------------------------------------------------- row block (v_proj, up_proj)

/**
 * y = x Wᵀ + scatter_I(x Sᵀ) + b.  x [N, in], W [out, in], S [k, in] → [N, out]
 * (scatter_I by the one-hot [k, out], for the reason given at BlockIndex).
 */
export function rowBlockForward(x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D | null,
  block: tf.Tensor2D, rows: BlockIndex): tf.Tensor2D {
  const yI = tf.matMul(x, block, false, true);                     // [N, k]
  return tf.add(frozenLinearForward(x, weight, bias), tf.matMul(yI, rows.oneHot)) as tf.Tensor2D; // [N, out]
}

/**
 * dS = dy[:, I]ᵀ x;  dx = dy W + dy[:, I] S.
 * dy [N, out], x [N, in], W [out, in], S [k, in] → dx [N, in], dBlock [k, in]
 */
export function rowBlockBackward(dy: tf.Tensor2D, x: tf.Tensor2D, weight: tf.Tensor2D,
  block: tf.Tensor2D, rows: BlockIndex): { dx: tf.Tensor2D; dBlock: tf.Tensor2D } {
  const dyI = tf.gather(dy, rows.indices, 1) as tf.Tensor2D;        // [N, k]
  const dBlock = tf.matMul(dyI, x, true, false) as tf.Tensor2D;    // [k, in]
  const dx = tf.add(frozenLinearBackward(dy, weight), tf.matMul(dyI, block)) as tf.Tensor2D; // [N, in]
  return { dx, dBlock };
}

/** A linear whose output rows I are trained as the dense block S [k, in]; saves the full x. */
export function rowBlockLinear(x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D | null,
  block: tf.Variable, rows: BlockIndex): tf.Tensor2D {
  const op = tf.customGrad((xIn, blockIn, save) => {
    const xx = xIn as tf.Tensor2D;                                 // [N, in]
    const s = blockIn as tf.Tensor2D;                              // [k, in]
    (save as tf.GradSaveFunc)([xx]);
    return {
      value: rowBlockForward(xx, weight, bias, s, rows),           // [N, out]
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.tidy(() => {
        const { dx, dBlock } = rowBlockBackward(dy as tf.Tensor2D, saved[0] as tf.Tensor2D, weight, s, rows);
        return [dx, dBlock];
      }),
    };
  });
  return op(x, block) as tf.Tensor2D;
}
