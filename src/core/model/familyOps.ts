/**
 * The ops some families add to the LLaMA computation (family.ts says which), as custom-gradient
 * ops that save only what their closed-form backward needs, as fusedOps.ts does for the rest.
 */
import * as tf from '@tensorflow/tfjs';
import { releasing, rmsNorm } from './fusedOps';
import type { FamilySpec } from './family';

/** √(2/π), the tanh GELU's inner scale. */
const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

/**
 * GeGLU with the tanh GELU (HF gelu_pytorch_tanh): gelu(g) · u, saving g and u only.
 *   gelu(g) = ½ g (1 + tanh(c (g + a g³))),
 *   gelu′(g) = ½ (1 + t) + ½ g (1 − t²) c (1 + 3 a g²),  t = tanh(c (g + a g³)).
 * gate [N, F], up [N, F] → [N, F]
 */
export function gegluTanh(gate: tf.Tensor2D, up: tf.Tensor2D): tf.Tensor2D {
  const inner = (g: tf.Tensor) => tf.tanh(tf.mul(tf.add(g, tf.mul(GELU_A, tf.pow(g, 3))), GELU_C)); // t  [N, F]
  const op = tf.customGrad((g, u, save) => {
    (save as tf.GradSaveFunc)([g as tf.Tensor, u as tf.Tensor]);
    const gelu = tf.mul(tf.mul(0.5, g as tf.Tensor), tf.add(1, inner(g as tf.Tensor))); // [N, F]
    return {
      value: tf.mul(gelu, u as tf.Tensor),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        releasing(dy, saved, () => {
          const [gs, us] = saved;
          const t = inner(gs); // [N, F]
          const dUp = tf.mul(dy, tf.mul(tf.mul(0.5, gs), tf.add(1, t))); // dy·gelu(g)
          const slope = tf.add(
            tf.mul(0.5, tf.add(1, t)),
            tf.mul(
              tf.mul(tf.mul(0.5, gs), tf.sub(1, tf.square(t))),
              tf.mul(GELU_C, tf.add(1, tf.mul(3 * GELU_A, tf.square(gs)))),
            ),
          ); // gelu′(g)  [N, F]
          return [tf.mul(tf.mul(dy, us), slope), dUp]; // d gate, d up
        }),
    };
  });
  return op(gate, up) as tf.Tensor2D;
}

/** cap · tanh(x / cap), saving its output only: dx = dy · (1 − (y / cap)²).  x [...] → [...] */
export function softcap<R extends tf.Rank>(x: tf.Tensor<R>, cap: number): tf.Tensor<R> {
  const op = tf.customGrad((xIn, save) => {
    const y = tf.mul(tf.tanh(tf.div(xIn as tf.Tensor, cap)), cap);
    (save as tf.GradSaveFunc)([y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        releasing(dy, saved, () => tf.mul(dy, tf.sub(1, tf.square(tf.div(saved[0], cap))))),
    };
  });
  return op(x) as tf.Tensor<R>;
}

/** x · s for a constant s, saving nothing (autodiff's Mul would keep x for the scalar's gradient). */
export function scaleBy<R extends tf.Rank>(x: tf.Tensor<R>, s: number): tf.Tensor<R> {
  const op = tf.customGrad((xIn) => ({
    value: tf.mul(xIn as tf.Tensor, s),
    gradFunc: (dy: tf.Tensor) => releasing(dy, [], () => tf.mul(dy, s)),
  }));
  return op(x) as tf.Tensor<R>;
}

/**
 * The family's RMSNorm over the last axis: x · r · w (LlamaRMSNorm), or x · r · (1 + w) with the
 * stored w zero-centred (Gemma3RMSNorm; 1 + w in float32 as HF computes it).
 */
export function familyNorm<R extends tf.Rank>(
  family: FamilySpec,
  x: tf.Tensor<R>,
  weight: tf.Tensor1D,
  eps: number,
): tf.Tensor<R> {
  return rmsNorm(x, family.normPlusOne ? tf.add(weight, 1) : weight, eps);
}
