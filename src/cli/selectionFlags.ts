/**
 * The S²FT selection from command-line flags, shared by `train` and `export-recipe`:
 * --selection FILE, else a strategy (default random) with a budget given as
 * --heads-per-layer/--channels-per-layer or --match-lora-rank R (default: match --lora-rank, 8).
 */
import { UserError } from '../core/errors';
import type { LlamaModel } from '../core/model/types';
import type { AdapterInfo } from '../core/s2ft/adapter';
import type { Allocation, Budget } from '../core/s2ft/budget';
import { selectUnits } from '../core/s2ft/selection';
import { PICK_SIDES, STRATEGIES, type PickSide, type Strategy } from '../core/s2ft/strategies';
import { MAX_SELECTION_CHARS, readSelectionFile } from '../core/s2ft/selectionFile';
import type { Selection } from '../core/s2ft/types';
import type { Batch } from '../core/train/batch';
import type { BatchStream } from '../core/train/batches';
import { readUserText } from './files';
import type { Flags } from './args';

/** At most this many batches feed the activation / gradient selection strategies. */
const CALIBRATION_BATCHES = 4;

/** A flag whose value is one of a fixed set, with a message listing the set. */
export function choice<T extends string>(flags: Flags, name: string, options: readonly T[], fallback: T): T {
  const v = flags.string(name) ?? fallback;
  if (!options.includes(v as T)) {
    throw new UserError('bad-argument', `--${name} must be one of ${options.join(', ')}, got "${v}"`);
  }
  return v as T;
}

export interface ChosenSelection {
  selection: Selection;
  provenance: AdapterInfo['selection'];
}

/** `calibration` is asked for batches only by the activation, product and gradient strategies. */
export async function chooseSelection(
  flags: Flags,
  seed: number,
  model: LlamaModel,
  calibration: () => Batch[],
): Promise<ChosenSelection> {
  const file = flags.string('selection');
  const strategy = choice<Strategy>(flags, 'strategy', STRATEGIES, 'random');
  const pick = choice<PickSide>(flags, 'pick', PICK_SIDES, 'large');
  const allocation = choice<Allocation>(flags, 'allocation', ['uniform', 'global'], 'uniform');
  const perLayer = flags.has('heads-per-layer') || flags.has('channels-per-layer');
  if (file !== undefined) {
    if (flags.has('strategy') || perLayer || flags.has('match-lora-rank')) {
      throw new UserError(
        'bad-argument',
        '--selection FILE cannot be combined with --strategy, --heads-per-layer, --channels-per-layer or --match-lora-rank',
      );
    }
    const text = await readUserText(file, 'selection file', MAX_SELECTION_CHARS);
    return { selection: readSelectionFile(text, model.config, file), provenance: { strategy: 'file', seed } };
  }
  if (perLayer && flags.has('match-lora-rank')) {
    throw new UserError(
      'bad-argument',
      'give either --heads-per-layer/--channels-per-layer or --match-lora-rank, not both',
    );
  }
  const budget: Budget = perLayer
    ? {
        kind: 'perLayer',
        heads: flags.number('heads-per-layer', 0, { min: 0, integer: true }),
        channels: flags.number('channels-per-layer', 0, { min: 0, integer: true }),
      }
    : {
        kind: 'loraRank',
        rank: flags.number('match-lora-rank', flags.number('lora-rank', 8, { min: 1, integer: true }), {
          min: 1,
          integer: true,
        }),
      };
  const needsCalibration = strategy !== 'random' && strategy !== 'weight';
  const result = await selectUnits(model, {
    strategy,
    pick,
    budget,
    allocation,
    seed,
    calibration: needsCalibration ? calibration() : [],
  });
  return { selection: result.selection, provenance: { strategy, pick, seed } };
}

/** A short calibration pass: a few training batches, then the stream starts over. */
export function calibrationBatches(stream: BatchStream): Batch[] {
  const start = stream.position();
  const count = Math.max(1, Math.min(CALIBRATION_BATCHES, Math.ceil(stream.unitsPerEpoch * 0.01)));
  const batches = Array.from({ length: count }, () => stream.next());
  stream.seek(start);
  return batches;
}
