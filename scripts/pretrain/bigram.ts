/**
 * The baseline the embedded model must beat: an interpolated bigram language model on the same
 * tokenization, p(b | a) = λ·count(a,b)/count(a) + (1 − λ)·p_unigram(b) with add-one unigram.
 * λ is chosen on the held-out tokens themselves, which flatters the baseline: the comparison in
 * the model card is therefore conservative.
 */
export interface BigramResult {
  heldOutLoss: number; // mean −log p, nats per token
  lambda: number;
}

export function bigramHeldOutLoss(
  train: ArrayLike<number>,
  heldOut: ArrayLike<number>,
  vocabSize: number,
): BigramResult {
  const unigram = new Float64Array(vocabSize).fill(1);
  const rowTotals = new Float64Array(vocabSize);
  const pairs = new Map<number, number>();
  for (let i = 0; i < train.length; i++) {
    unigram[train[i]] += 1;
    if (i + 1 < train.length) {
      const key = train[i] * vocabSize + train[i + 1];
      pairs.set(key, (pairs.get(key) ?? 0) + 1);
      rowTotals[train[i]] += 1;
    }
  }
  const unigramTotal = unigram.reduce((s, c) => s + c, 0);
  const lossFor = (lambda: number): number => {
    let nll = 0;
    for (let i = 0; i + 1 < heldOut.length; i++) {
      const a = heldOut[i];
      const b = heldOut[i + 1];
      const pUni = unigram[b] / unigramTotal;
      const pBi = rowTotals[a] > 0 ? (pairs.get(a * vocabSize + b) ?? 0) / rowTotals[a] : 0;
      nll -= Math.log(lambda * pBi + (1 - lambda) * pUni);
    }
    return nll / Math.max(1, heldOut.length - 1);
  };
  let best: BigramResult = { heldOutLoss: Infinity, lambda: 0 };
  for (let lambda = 0; lambda <= 0.96; lambda += 0.05) {
    const loss = lossFor(lambda);
    if (loss < best.heldOutLoss) best = { heldOutLoss: loss, lambda: Number(lambda.toFixed(2)) };
  }
  return best;
}
