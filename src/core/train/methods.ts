/**
 * The one entry point that turns a method name into a PreparedMethod, so the trainer, the CLI,
 * the UI and the benchmarks compare S²FT, LoRA and full FT with a loop over names.
 */
import { UserError } from '../errors';
import type { LlamaModel } from '../model/types';
import type { Selection } from '../s2ft/types';
import { prepareFull, type PreparedFull } from './full';
import { prepareLora, type LoraOptions, type PreparedLora } from './lora';
import type { MethodName } from './method';
import { prepareS2ft, type PreparedS2ft } from './s2ft';

/** Settings of every method; each method reads only its own. */
export interface MethodConfig {
  /** S²FT: the heads / channels (and optional rows) to train. */
  selection?: Selection;
  /** LoRA: rank, alpha, dropout, target modules, seed. */
  lora?: LoraOptions;
}

export type AnyPreparedMethod = PreparedS2ft | PreparedLora | PreparedFull;

export function prepareMethod(name: MethodName, model: LlamaModel, config: MethodConfig): AnyPreparedMethod {
  switch (name) {
    case 's2ft':
      if (!config.selection)
        throw new UserError('bad-argument', 'method s2ft needs a selection (a selection file or a selection strategy)');
      return prepareS2ft(model, config.selection);
    case 'lora':
      if (!config.lora) throw new UserError('bad-argument', 'method lora needs LoRA settings (at least a rank)');
      return prepareLora(model, config.lora);
    case 'full':
      return prepareFull(model);
    default:
      throw new UserError('bad-argument', `unknown method "${String(name)}" (expected s2ft, lora or full)`);
  }
}
