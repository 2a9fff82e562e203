/**
 * `train`: fine-tune a checkpoint on a dataset with S²FT, LoRA or full fine-tuning and write what
 * was learned to --out:
 *   s2ft  the native S²FT adapter file (.safetensors, DESIGN.md "Adapter file (native)"), with the
 *         base model's name and fingerprint, the selection strategy and seed, and the training
 *         settings in its metadata
 *   lora  a PEFT LoRA adapter directory (adapter_config.json + adapter_model.safetensors)
 *   full  a complete HF checkpoint directory (config.json, model.safetensors, tokenizer files)
 *
 * Flags and defaults (every training flag, its default and its bounds come from the core's
 * TrainConfig table, src/core/train/config.ts, read by ../trainFlags.ts):
 *   --method s2ft|lora|full (s2ft)    --optimizer adamw|sgd (adamw: β 0.9/0.95, ε 1e-8; sgd: plain)
 *   --lr 1e-4   --steps 100   --batch-size 8 (rows per update)   --grad-accum 1 (micro-batches per
 *   update; must divide the batch size)   --weight-decay 0   --grad-clip 1.0 (global norm, as the HF
 *   Trainer; 0 = off)   --warmup 0   --schedule linear|cosine|constant (linear)   --seed 0
 *   --eval-every 0 (N > 0 holds out --val-fraction 0.1 of the data and evaluates every N updates)
 *   --seq-len 0 (chosen from the data): .txt data is packed into windows of 128 tokens; .jsonl rows are one example
 *   each and the default is the longest row minus one (capped at 1024), so nothing is cut off.
 *   S²FT: --selection FILE, or --strategy random|weight|activation|product|gradient (random)
 *   [--pick large|small] [--allocation uniform|global] with --heads-per-layer N
 *   --channels-per-layer N, or --match-lora-rank R (default: match --lora-rank, 8).
 *   LoRA: --lora-rank 8, --lora-alpha 0 (= 2·rank), --lora-dropout 0 (targets q, k, v, up, down).
 *
 * With no warm-up the first update uses exactly --lr whatever the schedule, and a batch that holds
 * every row is the same set whatever the shuffle, so `--optimizer sgd --steps 1 --grad-clip 0`
 * changes the trained weights by exactly −lr × the gradient of the mean next-token cross-entropy.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../../core/errors';
import { disposeWeights } from '../../core/model/init';
import { adapterDims, encodeS2ftAdapter } from '../../core/s2ft/adapter';
import { BatchStream, chooseSeqLen, makeBatches, shouldPack, splitTrainValidation } from '../../core/train/batches';
import { trainConfigToJson, type TrainConfig } from '../../core/train/config';
import { MAX_DATASET_CHARS, parseDataset } from '../../core/train/data';
import { prepareFull } from '../../core/train/full';
import { loraOptions, prepareLora } from '../../core/train/lora';
import type { PreparedMethod } from '../../core/train/method';
import type { StepMetrics } from '../../core/train/metrics';
import { prepareS2ft } from '../../core/train/s2ft';
import { Trainer } from '../../core/train/trainer';
import type { Flags } from '../lib/args';
import { readUserText } from '../lib/files';
import type { CommandRun } from '../command';
import { loadCliModel, type CliModel } from '../lib/modelArg';
import { calibrationBatches, chooseSelection } from '../lib/selectionFlags';
import { trainConfigFromFlags } from '../lib/trainFlags';
import { writeModelDirectory } from './fuse';

/** Every training flag, checked before anything is loaded. */
export interface TrainOptions {
  data: string;
  out: string;
  valFraction: number;
  config: TrainConfig;
}

export function readTrainOptions(flags: Flags): TrainOptions {
  const config = trainConfigFromFlags(flags);
  return {
    data: flags.requireString('data'),
    out: flags.requireString('out'),
    valFraction: config.evalEvery > 0 ? flags.number('val-fraction', 0.1, { min: 0.001, max: 0.5 }) : 0,
    config,
  };
}

export const run: CommandRun = async ({ flags, log }) => {
  const options = readTrainOptions(flags);
  // The dataset is read before the model is loaded, so a wrong path fails at once.
  const text = await readUserText(options.data, 'dataset', MAX_DATASET_CHARS);
  if (flags.all('adapter').length > 0) {
    throw new UserError(
      'bad-argument',
      'train does not take --adapter; fuse the adapters into a checkpoint first (`fuse`) and train on that',
    );
  }
  // Fail on an unwritable --out now, not after the training.
  await mkdir(path.dirname(path.resolve(options.out)), { recursive: true }).catch((e: NodeJS.ErrnoException) => {
    throw new UserError('bad-argument', `cannot create the output's folder: ${e.code ?? e.message}`, options.out);
  });
  const model = await loadCliModel(flags);
  const { config } = model;
  const dataset = parseDataset(text, options.data, { tokenizer: model.tokenizer, vocabSize: config.vocabSize });
  if (dataset.counts.brokenLines > 0) {
    const first = dataset.errors[0];
    log(`warning: ${dataset.counts.brokenLines} line(s) of ${options.data} skipped; first: ${first.message}`);
  }
  const seqLen = chooseSeqLen(
    { examples: dataset.examples, pack: shouldPack(dataset) },
    options.config.seqLen,
    config.maxPositionEmbeddings,
  );
  const settings: TrainConfig = { ...options.config, seqLen };
  const { train, validation } = splitTrainValidation(dataset.examples, options.valFraction, settings.seed);
  const batchOptions = {
    batchSize: settings.batchSize / settings.gradAccum,
    seqLen,
    seed: settings.seed,
    pack: shouldPack(dataset),
  };
  const stream = new BatchStream(
    { examples: train, eosTokenId: dataset.eosTokenId },
    { ...batchOptions, shuffle: true },
  );
  const validationBatches =
    validation.length > 0
      ? makeBatches({ examples: validation, eosTokenId: dataset.eosTokenId }, { ...batchOptions, shuffle: false })
      : [];

  const method = await prepareFromFlags(flags, settings, options.data, model, stream);
  const stats = method.prepared.stats();
  log(
    `${settings.method}: ${stats.trainableParams.toLocaleString('en-US')} trainable parameters; ` +
      `${stream.unitsPerEpoch} training examples of ≤ ${seqLen} tokens; ${settings.steps} steps of batch ${settings.batchSize}`,
  );

  const trainer = new Trainer(method.prepared, config, stream, settings, validationBatches);
  const every = Math.max(1, Math.round(settings.steps / 20));
  const result = await trainer.run({
    onStep: (m) => {
      if (m.step % every === 0 || m.step === 1 || m.step === settings.steps) log(formatStep(m));
    },
    onEval: (e) => log(`eval step ${e.step}: loss ${e.loss.toFixed(4)} (perplexity ${e.perplexity.toFixed(2)})`),
  });
  await method.write(options.out);
  log(`wrote ${OUTPUT_KINDS[method.output]} ${options.out}`);
  const last = result.history[result.history.length - 1];
  const summary = {
    method: settings.method,
    steps: result.steps,
    finalLoss: last.loss,
    evalLoss: result.evals.length > 0 ? result.evals[result.evals.length - 1].loss : null,
    losses: result.history.map((m) => m.loss),
    trainableParams: stats.trainableParams,
    trainableBytes: stats.trainableBytes,
    peakBytes: last.peakBytes,
    meanStepMs: result.history.reduce((s, m) => s + m.stepMs, 0) / result.history.length,
    tokensPerSec: result.history.reduce((s, m) => s + m.tokens, 0) / (last.elapsedMs / 1000),
    seqLen,
    batchSize: settings.batchSize,
    optimizer: settings.optimizer,
    lr: settings.lr,
    out: options.out,
    output: method.output,
  };
  trainer.dispose();
  method.prepared.dispose();
  return summary;
};

function formatStep(m: StepMetrics): string {
  return (
    `step ${m.step}: loss ${m.loss.toFixed(4)}  lr ${m.lr.toExponential(2)}  grad norm ${m.gradNorm.toFixed(3)}  ` +
    `${Math.round(m.tokensPerSec)} tok/s  ${(m.bytesInUse / 2 ** 20).toFixed(1)} MiB in use`
  );
}

/** What --out becomes, per method. */
const OUTPUT_KINDS = {
  's2ft-adapter': 'the S²FT adapter',
  'peft-lora': 'the PEFT LoRA adapter directory',
  checkpoint: 'the checkpoint directory',
} as const;

/** A method ready to train, and how to write what it learned. */
interface MethodRun {
  prepared: PreparedMethod;
  output: keyof typeof OUTPUT_KINDS;
  write(out: string): Promise<void>;
}

async function prepareFromFlags(
  flags: Flags,
  settings: TrainConfig,
  dataPath: string,
  base: CliModel,
  stream: BatchStream,
): Promise<MethodRun> {
  const model = { config: base.config, weights: base.weights };
  if (settings.method === 'lora') {
    const prepared = prepareLora(model, loraOptions(settings));
    return {
      prepared,
      output: 'peft-lora',
      write: async (out) => {
        const files = await prepared.exportPeft(base);
        await mkdir(out, { recursive: true });
        for (const [name, bytes] of Object.entries(files)) await writeFile(path.join(out, name), bytes);
      },
    };
  }
  if (settings.method === 'full') {
    const prepared = prepareFull(model);
    // The variables hold the weights now; nothing here reads the base again, so each base buffer is
    // freed at its variable's first update instead of staying beside it (540 MB at SmolLM2-135M).
    disposeWeights(base.weights);
    return {
      prepared,
      output: 'checkpoint',
      // Every weight trained in float32: written as float32, whatever the base's dtype.
      write: (out) => writeModelDirectory(out, { ...base, dtype: 'F32' }, prepared.weights),
    };
  }
  const chosen = await chooseSelection(flags, settings.seed, model, () => calibrationBatches(stream));
  const prepared = prepareS2ft(model, chosen.selection);
  return {
    prepared,
    output: 's2ft-adapter',
    write: async (out) => {
      const blocks = await prepared.blocks();
      const bytes = encodeS2ftAdapter(blocks, {
        baseModel: { name: base.name, fingerprint: base.fingerprint },
        targetModules: [...new Set(blocks.map((b) => b.module))],
        selection: chosen.provenance,
        // The settings for provenance, in run.json's form (config.ts).
        training: { ...trainConfigToJson(settings), data: path.basename(dataPath) },
        dims: adapterDims(base.config),
      });
      await writeFile(out, bytes);
    },
  };
}
