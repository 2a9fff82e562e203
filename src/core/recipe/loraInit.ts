/**
 * The recipe's starting point for a LoRA run: the adapter the studio's `train` would start from
 * (A seeded from the run's seed, B = 0), as PEFT files for lora_init/. Training from the same A
 * makes the recipe's updates equal the studio's, not just alike.
 */
import type { LlamaModel } from '../model/types';
import type { PeftFiles } from '../s2ft/peft';
import type { TrainConfig } from '../train/config';
import { loraOptions, prepareLora } from '../train/lora';

export async function initialLoraAdapter(
  model: LlamaModel,
  base: { name: string; fingerprint: string },
  training: TrainConfig,
): Promise<PeftFiles> {
  const prepared = prepareLora(model, loraOptions(training));
  try {
    return await prepared.exportPeft(base);
  } finally {
    prepared.dispose();
  }
}
