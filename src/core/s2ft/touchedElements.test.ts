// Writing an S²FT module update (touchedElements.ts) on the tfjs cpu backend: the host write and
// the GPU backends' gather path both equal W + update computed element by element; copies
// own their data, clones do not.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomValues } from './testing/randomAdapter';
import { hostValues, ownedCopy, ownsData, withUpdate, withUpdateByGather } from './touchedElements';
import type { BlockAxis } from './types';

const out = 12,
  inDim = 20;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** W + update at the touched elements, in float64, from the definition of a block. */
function expected(W: Float32Array, axis: BlockAxis, indices: Int32Array, update: Float32Array): Float64Array {
  const y = Float64Array.from(W);
  const k = indices.length;
  indices.forEach((j, p) => {
    if (axis === 'columns') for (let r = 0; r < out; r++) y[r * inDim + j] += update[r * k + p];
    else for (let c = 0; c < inDim; c++) y[j * inDim + c] += update[p * inDim + c];
  });
  return y;
}

describe('touched elements', () => {
  for (const axis of ['columns', 'rows'] as const) {
    it(`host write and gather both give W + update (${axis})`, () => {
      const values = randomValues(out * inDim, 1);
      const W = tf.tensor2d(values.slice(), [out, inDim]);
      // Unsorted; six columns: a group of four and two more (writeTouched walks four at a time).
      const indices = Int32Array.from(axis === 'columns' ? [7, 0, 3, 19, 11, 5] : [7, 0, 11, 5]);
      const k = indices.length;
      const update = randomValues(axis === 'columns' ? out * k : k * inDim, 2);
      const host = withUpdate(W, axis, indices, update);
      const gathered = withUpdateByGather(W, axis, indices, update);
      const want = expected(values, axis, indices, update);
      const a = host.dataSync(),
        b = gathered.dataSync();
      let diff = 0,
        between = 0,
        changed = 0;
      for (let e = 0; e < want.length; e++) {
        diff = Math.max(diff, Math.abs(a[e] - want[e]), Math.abs(b[e] - want[e]));
        between = Math.max(between, Math.abs(a[e] - b[e]));
        if (a[e] !== values[e]) changed++;
      }
      console.log(
        `${axis}: host and gather vs float64 ${diff.toExponential(3)} (tol 1e-7), host vs gather ${between} (tol 0), ${changed} of ${want.length} elements changed`,
      );
      expect(diff).toBeLessThanOrEqual(1e-7);
      expect(between).toBe(0);
      expect(changed).toBe(axis === 'columns' ? out * k : k * inDim); // exactly the touched ones
      expect(Array.from(W.dataSync())).toEqual(Array.from(values)); // W itself is not written
      tf.dispose([W, host, gathered]);
    });
  }

  it('a copy owns its data; a clone, a reshape or a variable shares it', () => {
    const W = tf.tensor2d(randomValues(out * inDim, 3), [out, inDim]);
    const copy = ownedCopy(W);
    expect(copy.dataId).not.toBe(W.dataId);
    expect(ownsData(copy)).toBe(true);
    expect(Array.from(copy.dataSync())).toEqual(Array.from(W.dataSync()));
    hostValues(copy)![0] += 1; // writes the copy only
    expect(copy.dataSync()[0]).not.toBe(W.dataSync()[0]);
    for (const share of [() => tf.clone(copy), () => copy.reshape([inDim, out]), () => tf.variable(copy)]) {
      const other = share();
      expect(ownsData(copy)).toBe(false);
      other.dispose();
      expect(ownsData(copy)).toBe(true);
    }
    tf.dispose([W, copy]);
  });
});
