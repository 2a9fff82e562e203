/**
 * The smallest real training run: a 2-layer tanh MLP fits a fixed smooth function with Adam.
 * Pure tfjs (no worker globals), so the same code runs in the worker and in Node tests.
 */
import * as tf from '@tensorflow/tfjs';

const SAMPLES = 64;
const INPUTS = 4;
const HIDDEN = 16;
const SEED = 7;
const LEARNING_RATE = 0.05;
// Passed explicitly: the WebGL backend's default epsilon is 1e-4, not 1e-7.
const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

export interface SmokeStep {
  step: number;
  loss: number;
  stepMs: number;
}

/** Runs `steps` Adam steps and reports the loss measured before each update. */
export async function smokeTrain(steps: number, onStep: (s: SmokeStep) => void): Promise<number[]> {
  const x = tf.randomNormal([SAMPLES, INPUTS], 0, 1, 'float32', SEED) as tf.Tensor2D; // [N, 4]
  // Target y = sin(x0) + 0.5·x1·x2 − x3: smooth, nonlinear, fixed.
  const y = tf.tidy(() => {
    const [x0, x1, x2, x3] = tf.split(x, INPUTS, 1); // 4 × [N, 1]
    return tf.sin(x0).add(x1.mul(x2).mul(0.5)).sub(x3); // [N, 1]
  });
  const w1 = variableFrom(tf.randomNormal([INPUTS, HIDDEN], 0, 1 / Math.sqrt(INPUTS), 'float32', SEED + 1)); // [4, H]
  const b1 = variableFrom(tf.zeros([HIDDEN])); // [H]
  const w2 = variableFrom(tf.randomNormal([HIDDEN, 1], 0, 1 / Math.sqrt(HIDDEN), 'float32', SEED + 2)); // [H, 1]
  const b2 = variableFrom(tf.zeros([1])); // [1]
  const optimizer = tf.train.adam(LEARNING_RATE, ADAM.beta1, ADAM.beta2, ADAM.epsilon);
  const meanSquaredError = (): tf.Scalar => {
    const hidden = tf.tanh(x.matMul(w1).add(b1)); // [N, H]
    const prediction = hidden.matMul(w2).add(b2); // [N, 1]
    return tf.losses.meanSquaredError(y, prediction) as tf.Scalar; // []
  };
  const losses: number[] = [];
  try {
    for (let step = 1; step <= steps; step++) {
      const started = performance.now();
      const loss = optimizer.minimize(meanSquaredError, true, [w1, b1, w2, b2]) as tf.Scalar;
      // Awaiting the value lets the worker's event loop run between steps (messages, stop).
      const value = (await loss.data())[0];
      loss.dispose();
      losses.push(value);
      onStep({ step, loss: value, stepMs: performance.now() - started });
    }
  } finally {
    optimizer.dispose();
    tf.dispose([x, y, w1, b1, w2, b2]);
  }
  return losses;
}

/** A variable that owns its initial value (tf.variable keeps the initial tensor alive otherwise). */
function variableFrom(initial: tf.Tensor): tf.Variable {
  const variable = tf.variable(initial);
  initial.dispose();
  return variable;
}
