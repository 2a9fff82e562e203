/**
 * `generate --model DIR [--adapter FILE]... (--prompt TEXT | --prompt-ids 1,2,3)
 *   [--max-new-tokens N] [--temperature T] [--top-k K] [--top-p P] [--seed S] [--json]`
 * Temperature 0 (the default) is greedy. `--prompt-ids` are used exactly as given (no BOS);
 * `--prompt` is encoded with the tokenizer's defaults (BOS when its post-processor adds one).
 * Stops at the config's eos ids or after N new tokens.
 */
import { UserError } from '../../core/errors';
import { generate } from '../../core/model/generate';
import type { CommandRun } from '../command';
import { loadCliModel, printLoadWarnings } from '../lib/modelArg';

export const run: CommandRun = async ({ flags, json, log }) => {
  const promptIdsFlag = flags.intList('prompt-ids');
  const promptText = flags.string('prompt');
  if ((promptIdsFlag === undefined) === (promptText === undefined))
    throw new UserError('bad-argument', 'give exactly one of --prompt TEXT or --prompt-ids 1,2,3');
  const maxNewTokens = flags.number('max-new-tokens', 32, { min: 0, integer: true });
  const temperature = flags.number('temperature', 0, { min: 0 });
  const topK = flags.number('top-k', 0, { min: 0, integer: true });
  const topP = flags.number('top-p', 1, { min: 0, max: 1 });
  const seed = flags.number('seed', 0, { integer: true });
  if (topP === 0) throw new UserError('bad-argument', '--top-p must be in (0, 1], got "0"');

  const loaded = await loadCliModel(flags);
  const { model, tokenizer, name } = loaded;
  let promptIds: number[];
  if (promptIdsFlag !== undefined) promptIds = promptIdsFlag;
  else if (tokenizer) promptIds = tokenizer.encode(promptText as string);
  else
    throw new UserError(
      'missing-file',
      'has no tokenizer.json, so --prompt TEXT cannot be encoded; use --prompt-ids',
      name,
    );

  const result = await generate(model, promptIds, { maxNewTokens, temperature, topK, topP, seed });
  printLoadWarnings(loaded);
  const text = tokenizer ? tokenizer.decode(result.ids, { skipSpecialTokens: true }) : null;
  if (!json) {
    log(text ?? result.ids.join(','));
    log(
      `(${result.ids.length} new tokens, stopped by ${result.stoppedBy === 'eos' ? 'an end-of-sequence token' : 'the length limit'})`,
    );
  }
  return { prompt_ids: promptIds, ids: result.ids, text };
};
