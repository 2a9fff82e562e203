/**
 * Partial back-propagation (paper §3.3) as explicit forward/backward pairs, llm.c style: each
 * linear has a `…Forward` and a `…Backward` with matching argument names, wired together by
 * `tf.customGrad`. x: [N, in], W: [out, in] (HF layout, y = x Wᵀ + b), N = batch · tokens.
 * The trained block S is a delta on W's columns J (or rows I): the layer computes with
 * W' = W + spread(S).
 *
 *   frozenLinear       y = x Wᵀ + b          saves nothing     dx = dy W        (model/linear.ts)
 *   columnBlockLinear  y = x W'ᵀ + b         saves x[:, J]     dS = dyᵀ x[:, J]      dx = dy W'
 *   rowBlockLinear     y = x W'ᵀ + b         saves x           dS = dy[:, I]ᵀ x      dx = dy W'
 *
 * Two exact ways to apply W', chosen per call by which costs less:
 * - through the effective weight (W' formed from W and S in one pass over W, in the forward and
 *   again in the backward; never kept): when the batch has at least as many rows as the spread
 *   would have otherwise (N ≥ out for columns, N ≥ in for rows), e.g. 16 × 128 tokens;
 * - through the small products, when N is smaller (one sequence on a large model):
 *   columns  y = x Wᵀ + x[:, J] Sᵀ           dx = dy W + spread_J(dy S)     ([N, in] spread)
 *   rows     y = x Wᵀ + spread_I(x Sᵀ)        dx = dy W + dy[:, I] S         ([N, out] spread)
 * Either way a trained linear costs a frozen one plus the small product dS (N·out·k or N·k·in
 * multiply-adds) and one cheap pass in each direction.
 *
 * W and b are captured by closure, never passed to customGrad: the tape then has no path to
 * them, so no weight gradient is ever requested or computed. The only customGrad inputs are x
 * and the trainable block S, so the only gradients returned are dx and dS.
 *
 * Memory. tfjs runs a customGrad's forward inside its own tidy, so what a block computes but
 * does not `save` (W', the full x of a column block) is freed as soon as the block returns, and
 * `save` keeps only the slice it names. The block's OUTPUT, however, belongs
 * to the caller's scope, and under tf.variableGrads the whole forward is one scope that ends only
 * after the loss. So the forward must run each decoder block in its own tf.tidy (freeing the
 * block's internal intermediates) and dispose the block's input once the next block has consumed
 * it (tidy cannot: that tensor belongs to the enclosing scope). The tape does not need either:
 * a backward reads only what was saved. Without this, peak memory is that of plain autodiff.
 */
import * as tf from '@tensorflow/tfjs';
import { releasing } from '../model/fusedOps';
import { frozenLinearBackward, frozenLinearForward } from '../model/linear';

/**
 * The selected indices J (columns of a column block, rows of a row block) in the two forms the
 * pair needs: the [k] indices for gathering x[:, J] or dy[:, I], and the [size] slots that spread
 * k values over the full width: slots[c] = p + 1 when c = J[p], else 0, pointing at a zero put in
 * front. A gather by slots is one pass on every backend; tf.scatterND would be a zero-fill plus a
 * scatter, and WebGL's scatterND visits every update for every output element.
 */
export interface BlockIndex {
  indices: tf.Tensor1D; // [k] int32
  slots: tf.Tensor1D; // [size] int32, 0 = untouched, p + 1 = the p-th selected
  dispose(): void;
}

export function makeBlockIndex(indices: Int32Array, size: number): BlockIndex {
  const slotOf = new Int32Array(size);
  indices.forEach((j, p) => {
    slotOf[j] = p + 1;
  });
  const idx = tf.tensor1d(indices, 'int32'); // [k]
  const slots = tf.tensor1d(slotOf, 'int32'); // [size]
  return {
    indices: idx,
    slots,
    dispose: () => {
      idx.dispose();
      slots.dispose();
    },
  };
}

/**
 * z's k slices placed at the selected positions of `axis`, zeros elsewhere.
 * axis 1: z [R, k] → [R, size];  axis 0: z [k, C] → [size, C]
 */
export function spread(z: tf.Tensor2D, index: BlockIndex, axis: 0 | 1): tf.Tensor2D {
  return tf.tidy(() => {
    const [r, c] = z.shape;
    const padded =
      axis === 1
        ? tf.concat2d([tf.zeros([r, 1]), z], 1) // [R, k + 1]
        : tf.concat2d([tf.zeros([1, c]), z], 0); // [k + 1, C]
    return tf.gather(padded, index.slots, axis) as tf.Tensor2D;
  });
}

/**
 * W' = W + spread(S): W with S added to its columns J (axis 'columns', S [out, k]) or rows I
 * (axis 'rows', S [k, in]).  W [out, in] → [out, in]
 */
export function effectiveWeight(
  weight: tf.Tensor2D,
  block: tf.Tensor2D,
  index: BlockIndex,
  axis: 'columns' | 'rows',
): tf.Tensor2D {
  return tf.tidy(() => tf.add(weight, spread(block, index, axis === 'columns' ? 1 : 0)) as tf.Tensor2D);
}

// ---------------------------------------------------------------- column block (o_proj, down_proj)

/** Whether a column block applies W' through the effective weight (see the header): N ≥ out. */
const columnsViaWeight = (x: tf.Tensor2D, weight: tf.Tensor2D) => x.shape[0] >= weight.shape[0];

/**
 * y = x W'ᵀ + b, and the one slice the backward needs.
 * x [N, in], W [out, in], S [out, k] → y [N, out], xJ [N, k]
 */
export function columnBlockForward(
  x: tf.Tensor2D,
  weight: tf.Tensor2D,
  bias: tf.Tensor1D | null,
  block: tf.Tensor2D,
  columns: BlockIndex,
): { y: tf.Tensor2D; xJ: tf.Tensor2D } {
  const xJ = tf.gather(x, columns.indices, 1) as tf.Tensor2D; // [N, k]
  const y = columnsViaWeight(x, weight)
    ? frozenLinearForward(x, effectiveWeight(weight, block, columns, 'columns'), bias) // [N, out]
    : (tf.add(frozenLinearForward(x, weight, bias), tf.matMul(xJ, block, false, true)) as tf.Tensor2D); // [N, out]
  return { y, xJ };
}

/**
 * dS = dyᵀ x[:, J];  dx = dy W'.
 * dy [N, out], xJ [N, k], W [out, in], S [out, k] → dx [N, in], dBlock [out, k]
 */
export function columnBlockBackward(
  dy: tf.Tensor2D,
  xJ: tf.Tensor2D,
  weight: tf.Tensor2D,
  block: tf.Tensor2D,
  columns: BlockIndex,
): { dx: tf.Tensor2D; dBlock: tf.Tensor2D } {
  const dBlock = tf.matMul(dy, xJ, true, false) as tf.Tensor2D; // [out, k]
  const dx = columnsViaWeight(dy, weight)
    ? frozenLinearBackward(dy, effectiveWeight(weight, block, columns, 'columns')) // [N, in]
    : (tf.add(
        frozenLinearBackward(dy, weight),
        spread(tf.matMul(dy, block) as tf.Tensor2D, columns, 1),
      ) as tf.Tensor2D); // [N, in]
  return { dx, dBlock };
}

/** A linear whose columns J are trained as the dense block S [out, k]; saves only x[:, J]. */
export function columnBlockLinear(
  x: tf.Tensor2D,
  weight: tf.Tensor2D,
  bias: tf.Tensor1D | null,
  block: tf.Variable,
  columns: BlockIndex,
): tf.Tensor2D {
  const op = tf.customGrad((xIn, blockIn, save) => {
    const s = blockIn as tf.Tensor2D; // [out, k]
    const { y, xJ } = columnBlockForward(xIn as tf.Tensor2D, weight, bias, s, columns);
    (save as tf.GradSaveFunc)([xJ, s]);
    return {
      value: y, // [N, out]
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        releasing(dy, saved, () => {
          const [xJs, ss] = saved as tf.Tensor2D[];
          const { dx, dBlock } = columnBlockBackward(dy as tf.Tensor2D, xJs, weight, ss, columns);
          return [dx, dBlock];
        }),
    };
  });
  return op(x, block) as tf.Tensor2D;
}

// ---------------------------------------------------------------- row block (v_proj, up_proj)

/** Whether a row block applies W' through the effective weight (see the header): N ≥ in. */
const rowsViaWeight = (x: tf.Tensor2D, weight: tf.Tensor2D) => x.shape[0] >= weight.shape[1];

/** y = x W'ᵀ + b.  x [N, in], W [out, in], S [k, in] → [N, out] */
export function rowBlockForward(
  x: tf.Tensor2D,
  weight: tf.Tensor2D,
  bias: tf.Tensor1D | null,
  block: tf.Tensor2D,
  rows: BlockIndex,
): tf.Tensor2D {
  return rowsViaWeight(x, weight)
    ? frozenLinearForward(x, effectiveWeight(weight, block, rows, 'rows'), bias) // [N, out]
    : (tf.add(
        frozenLinearForward(x, weight, bias),
        spread(tf.matMul(x, block, false, true) as tf.Tensor2D, rows, 1),
      ) as tf.Tensor2D); // [N, out]
}

/**
 * dS = dy[:, I]ᵀ x;  dx = dy W'.
 * dy [N, out], x [N, in], W [out, in], S [k, in] → dx [N, in], dBlock [k, in]
 */
export function rowBlockBackward(
  dy: tf.Tensor2D,
  x: tf.Tensor2D,
  weight: tf.Tensor2D,
  block: tf.Tensor2D,
  rows: BlockIndex,
): { dx: tf.Tensor2D; dBlock: tf.Tensor2D } {
  const dyI = tf.gather(dy, rows.indices, 1) as tf.Tensor2D; // [N, k]
  const dBlock = tf.matMul(dyI, x, true, false) as tf.Tensor2D; // [k, in]
  const dx = rowsViaWeight(x, weight)
    ? frozenLinearBackward(dy, effectiveWeight(weight, block, rows, 'rows')) // [N, in]
    : (tf.add(frozenLinearBackward(dy, weight), tf.matMul(dyI, block)) as tf.Tensor2D); // [N, in]
  return { dx, dBlock };
}

/** A linear whose output rows I are trained as the dense block S [k, in]; saves the full x. */
export function rowBlockLinear(
  x: tf.Tensor2D,
  weight: tf.Tensor2D,
  bias: tf.Tensor1D | null,
  block: tf.Variable,
  rows: BlockIndex,
): tf.Tensor2D {
  const op = tf.customGrad((xIn, blockIn, save) => {
    const xx = xIn as tf.Tensor2D; // [N, in]
    const s = blockIn as tf.Tensor2D; // [k, in]
    (save as tf.GradSaveFunc)([xx, s]);
    return {
      value: rowBlockForward(xx, weight, bias, s, rows), // [N, out]
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        releasing(dy, saved, () => {
          const [xs, ss] = saved as tf.Tensor2D[];
          const { dx, dBlock } = rowBlockBackward(dy as tf.Tensor2D, xs, weight, ss, rows);
          return [dx, dBlock];
        }),
    };
  });
  return op(x, block) as tf.Tensor2D;
}
