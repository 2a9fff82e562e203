/** Test fixture: PEFT LoRA files laid out by hand, as PEFT's save_pretrained writes them. */
import { writeSafetensors, type TensorEntry } from '../../io/safetensors';
import { randomValues } from '../../s2ft/testing/randomAdapter';

export interface HandPair {
  key: string; // e.g. model.layers.0.self_attn.q_proj
  rank: number;
  inDim: number;
  outDim: number;
}

/** Random A [rank, in] and B [out, rank] for each pair, seeded by its position. */
export function handPairs(pairs: HandPair[], seed: number): (HandPair & { A: Float32Array; B: Float32Array })[] {
  return pairs.map((p, i) => ({
    ...p,
    A: randomValues(p.rank * p.inDim, seed + 2 * i, 0.3),
    B: randomValues(p.outDim * p.rank, seed + 2 * i + 1, 0.3),
  }));
}

export function handPeftFiles(
  config: Record<string, unknown>,
  pairs: (HandPair & { A: Float32Array; B: Float32Array })[],
  dtype: 'F32' | 'F16' | 'BF16' = 'F32',
  metadata: Record<string, string> = { format: 'pt' },
): { config: Uint8Array; weights: Uint8Array } {
  const entries: TensorEntry[] = pairs.flatMap((p) => [
    { name: `base_model.model.${p.key}.lora_A.weight`, dtype, shape: [p.rank, p.inDim], data: p.A },
    { name: `base_model.model.${p.key}.lora_B.weight`, dtype, shape: [p.outDim, p.rank], data: p.B },
  ]);
  return {
    config: new TextEncoder().encode(JSON.stringify({ peft_type: 'LORA', task_type: 'CAUSAL_LM', ...config })),
    weights: writeSafetensors(entries, metadata),
  };
}
