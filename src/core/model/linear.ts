/**
 * The plain linear layer y = x Wᵀ + b as explicit forward/backward pairs (x [N, in], W [out, in]
 * HF layout, b [out]), in the two forms training needs:
 *
 *   frozenLinear  W, b constants            saves nothing   dx = dy W
 *   denseLinear   W (and b) trainable       saves x         dx = dy W,  dW = dyᵀ x,  db = Σ_rows dy
 *
 * S²FT and LoRA run their untrained linears as frozenLinear; full FT runs every linear as
 * denseLinear. A frozen weight is captured by closure, never passed to customGrad, so the tape
 * has no path to it and no weight gradient is ever computed for it. Both release their gradient
 * once used (fusedOps.releasing), so the baseline is built with the same care as the methods it
 * is compared with. (The model's defaultLinear stays plain autodiff: it must differentiate
 * whatever a caller asks for, and computes a weight gradient only when asked.)
 */
import * as tf from '@tensorflow/tfjs';
import { releasing } from './fusedOps';

/** y = x Wᵀ + b.  x [N, in], W [out, in], b [out] → [N, out] */
export function frozenLinearForward(x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D | null): tf.Tensor2D {
  const y = tf.matMul(x, weight, false, true) as tf.Tensor2D; // [N, out]
  return bias ? (tf.add(y, bias) as tf.Tensor2D) : y; // [N, out]
}

/** dx = dy W.  dy [N, out], W [out, in] → [N, in]. No dW, no db: the weight is frozen. */
export function frozenLinearBackward(dy: tf.Tensor2D, weight: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(dy, weight); // [N, in]
}

/** A frozen linear layer: forward x Wᵀ + b, backward dx only, saves nothing. */
export function frozenLinear(x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D | null): tf.Tensor2D {
  const op = tf.customGrad((xIn) => ({
    value: frozenLinearForward(xIn as tf.Tensor2D, weight, bias), // [N, out]
    gradFunc: (dy: tf.Tensor) => releasing(dy, [], () => frozenLinearBackward(dy as tf.Tensor2D, weight)), // [N, in]
  }));
  return op(x) as tf.Tensor2D;
}

/**
 * A linear layer whose weight (and bias, when given) are trained: saves x (W is a variable, alive
 * anyway).  x [N, in], W [out, in], b [out] → [N, out]; backward dx [N, in], dW [out, in], db [out].
 */
export function denseLinear(x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D | null): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, wIn] = args as tf.Tensor2D[];
    const bIn = bias ? (args[2] as tf.Tensor1D) : null;
    (args[args.length - 1] as tf.GradSaveFunc)([xIn, wIn]);
    return {
      value: frozenLinearForward(xIn, wIn, bIn), // [N, out]
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        releasing(dy, saved, () => {
          const [xs, ws] = saved as tf.Tensor2D[];
          const dx = frozenLinearBackward(dy as tf.Tensor2D, ws); // [N, in]
          const dW = tf.matMul(dy, xs, true, false); // [out, in]
          return bias ? [dx, dW, tf.sum(dy, 0)] : [dx, dW]; // db [out]
        }),
    };
  });
  return (bias ? op(x, weight, bias) : op(x, weight)) as tf.Tensor2D;
}
