/**
 * `export-recipe`: write a self-contained PyTorch/torchrun folder that runs the same training as
 * `train` would (same method: S²FT's selection, LoRA's initial adapter, or full fine-tuning; same
 * data tokens and order, optimizer, schedule, loss), for GPUs and clusters. The folder holds the
 * recipe's scripts (recipe/template), run.json, selection.json (S²FT) or lora_init/ (LoRA), the data
 * pre-tokenized by the studio's parser (so the recipe needs no tokenizer) and a README with the
 * launch commands. What it writes (an adapter, or a checkpoint) opens in the studio.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../core/errors';
import { writeFilesToDirectory } from '../../core/io/nodeFiles';
import { initialLoraAdapter } from '../../core/recipe/loraInit';
import {
  assembleRecipe,
  RECIPE_OUT,
  TEMPLATE_FILES,
  type RecipeData,
  type RecipeMethod,
  type RecipeSpec,
} from '../../core/recipe/recipe';
import type { Batch } from '../../core/train/batch';
import { BatchStream, chooseSeqLen, shouldPack } from '../../core/train/batches';
import type { TrainConfig } from '../../core/train/config';
import { MAX_DATASET_CHARS, parseDataset } from '../../core/train/data';
import type { CommandRun } from '../command';
import { readUserText } from '../lib/files';
import { loadCliModel } from '../lib/modelArg';
import { calibrationBatches, chooseSelection } from '../lib/selectionFlags';
import { readTrainOptions } from './train';

export const TEMPLATE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../recipe/template');

async function readTemplate(dir = TEMPLATE_DIR): Promise<Map<string, string>> {
  const entries = await Promise.all(
    TEMPLATE_FILES.map(async (name) => [name, await readFile(path.join(dir, name), 'utf8')] as const),
  );
  return new Map(entries);
}

export const run: CommandRun = async ({ flags, log }) => {
  const options = readTrainOptions(flags);
  const { config: settings } = options;
  if (settings.evalEvery > 0)
    throw new UserError('bad-argument', 'export-recipe does not support --eval-every (the recipe trains on all rows)');
  const model = await loadCliModel(flags);
  const { config } = model;

  // The recipe reads no text: the rows are tokenized here, as `train` would, and written into the folder.
  const text = await readUserText(options.data, 'dataset', MAX_DATASET_CHARS);
  const dataset = parseDataset(text, options.data, { tokenizer: model.tokenizer, vocabSize: config.vocabSize });
  if (dataset.counts.brokenLines > 0) {
    log(
      `warning: ${dataset.counts.brokenLines} line(s) of ${options.data} skipped; first: ${dataset.errors[0].message}`,
    );
  }
  const pack = shouldPack(dataset);
  const seqLen = chooseSeqLen({ examples: dataset.examples, pack }, settings.seqLen, config.maxPositionEmbeddings);
  const data: RecipeData = {
    source: path.basename(options.data),
    examples: dataset.examples,
    pack,
    eosTokenId: dataset.eosTokenId,
  };
  // The studio's batching refuses data no update could learn from (every target beyond --seq-len): here,
  // with its message, rather than after the folder has been copied to the training machine.
  new BatchStream(
    { examples: data.examples, eosTokenId: data.eosTokenId },
    { batchSize: options.config.batchSize, seqLen, seed: options.config.seed, pack, shuffle: true },
  );
  const calibration = (): Batch[] => {
    const stream = new BatchStream(
      { examples: data.examples, eosTokenId: data.eosTokenId },
      {
        batchSize: settings.batchSize / settings.gradAccum,
        seqLen,
        seed: settings.seed,
        pack: data.pack,
        shuffle: true,
      },
    );
    return calibrationBatches(stream);
  };
  const training: TrainConfig = { ...settings, seqLen };
  const base = { path: path.resolve(model.dir), name: model.name, fingerprint: model.fingerprint };
  let method: RecipeMethod;
  if (settings.method === 'full') method = { kind: 'full' };
  else if (settings.method === 'lora') method = { kind: 'lora', init: await initialLoraAdapter(model, base, training) };
  else {
    const { selection, provenance } = await chooseSelection(flags, settings.seed, model, calibration);
    method = { kind: 's2ft', selection, selectionInfo: provenance };
  }
  const spec: RecipeSpec = { model: base, data, method, training };
  const files = assembleRecipe(await readTemplate(), spec);
  const encoder = new TextEncoder();
  await writeFilesToDirectory(
    options.out,
    new Map(
      [...files].map(([name, content]) => [name, typeof content === 'string' ? encoder.encode(content) : content]),
    ),
  );
  log(`wrote the ${settings.method} PyTorch recipe to ${options.out} (${files.size} files). Run it with:`);
  log(
    `  cd ${options.out} && python3 train.py     # writes ${RECIPE_OUT[method.kind]}; its README.md: many GPUs and machines`,
  );
  return {
    out: options.out,
    files: [...files.keys()],
    model: spec.model,
    seqLen,
    steps: settings.steps,
    batchSize: settings.batchSize,
  };
};
