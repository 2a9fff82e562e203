/**
 * The tfjs backend the command line runs on. One place to change it: `cpu` is the Node backend
 * that passes the gradient tests (tfjs-node is not a dependency).
 */
import * as tf from '@tensorflow/tfjs';

export const NODE_BACKEND = 'cpu';

export async function initNodeBackend(): Promise<string> {
  // Production mode silences tfjs's console banner (about tfjs-node), so a user error stays one line on stderr.
  tf.enableProdMode();
  await tf.setBackend(NODE_BACKEND);
  await tf.ready();
  return tf.getBackend();
}
