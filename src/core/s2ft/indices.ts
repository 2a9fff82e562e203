/**
 * Index vocabulary of S²FT. Four look-alike kinds of integer are kept apart by branded types:
 * a head or a channel, counted in the checkpoint's ORIGINAL coordinates or at its position
 * after the co-permutation. Mixing them up is the classic bug of a permuted model, so the
 * compiler refuses it.
 */

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** An attention head as numbered in the checkpoint (what selection and adapter files store). */
export type OriginalHead = Brand<number, 'OriginalHead'>;
/** Where a head sits after the co-permutation (selected heads first). */
export type PermutedHead = Brand<number, 'PermutedHead'>;
/** An FFN channel (a row of gate/up, a column of down) as numbered in the checkpoint. */
export type OriginalChannel = Brand<number, 'OriginalChannel'>;
/** Where a channel sits after the co-permutation (selected channels first). */
export type PermutedChannel = Brand<number, 'PermutedChannel'>;

export const originalHead = (h: number): OriginalHead => h as OriginalHead;
export const permutedHead = (p: number): PermutedHead => p as PermutedHead;
export const originalChannel = (c: number): OriginalChannel => c as OriginalChannel;
export const permutedChannel = (p: number): PermutedChannel => p as PermutedChannel;

/**
 * The o_proj input columns (or v_proj output rows) owned by a list of heads:
 * head h owns h·hd … (h+1)·hd − 1, in the order the heads are given.
 */
export function headColumns(heads: readonly number[], headDim: number): Int32Array {
  const cols = new Int32Array(heads.length * headDim);
  heads.forEach((h, i) => {
    for (let d = 0; d < headDim; d++) cols[i * headDim + d] = h * headDim + d;
  });
  return cols;
}
