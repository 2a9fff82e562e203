/**
 * The PyTorch scale-out recipe of a studio run (issue 9): the files of an exported folder, built
 * from the run's settings, method and data, next to the template files (recipe/template/:
 * train.py, model.py, s2ft.py, lora.py, full.py, data.py, adapter.py, safetensors_io.py,
 * requirements.txt, README.md). The method is S²FT (its selection in selection.json) or one of its
 * baselines: LoRA (the studio's initial adapter in lora_init/, so both engines start from the same
 * A) or full fine-tuning.
 *
 * The data is tokenized here, by the studio's own parser (same tokenizer, instruction template,
 * chat template and loss masking), and written as pre-tokenized rows, so the recipe trains on
 * exactly the tokens the studio would and needs no tokenizer.
 *
 * Pure: the caller reads the template and writes the files (node:fs in the CLI, a zip in the app).
 */
import type { TokenizedExample } from '../train/data';
import { IGNORE_INDEX } from '../train/batch';
import { loraAlpha, optimizerSettings, trainConfigToJson, type TrainConfig } from '../train/config';
import type { AdapterInfo } from '../s2ft/adapter';
import type { PeftFiles } from '../s2ft/peft';
import { writeSelectionFile } from '../s2ft/selectionFile';
import type { Selection } from '../s2ft/types';

export const RUN_FILE = 'run.json';
export const SELECTION_FILE = 'selection.json';
export const TOKENS_FILE = 'train.tokens.jsonl';
export const README_FILE = 'README.md';
export const ADAPTER_FILE = 'adapter.safetensors';
export const LORA_INIT_DIR = 'lora_init';
/** What train.py writes by default, per method (run.json `out`). */
export const RECIPE_OUT = { s2ft: ADAPTER_FILE, lora: 'lora-adapter', full: 'fine-tuned-model' } as const;
/** The template files an exported folder contains (besides the files written per run). */
export const TEMPLATE_FILES = [
  'train.py',
  'model.py',
  's2ft.py',
  'lora.py',
  'full.py',
  'data.py',
  'adapter.py',
  'safetensors_io.py',
  'requirements.txt',
  'README.md',
] as const;

/** The rows as the studio tokenized them: they go into the folder as train.tokens.jsonl. */
export interface RecipeData {
  source: string;
  examples: TokenizedExample[];
  pack: boolean;
  eosTokenId: number | null;
}

/** What the recipe trains; `training.method` names the same kind. */
export type RecipeMethod =
  | { kind: 's2ft'; selection: Selection; selectionInfo: AdapterInfo['selection'] }
  /** `init`: the studio's LoRA adapter before the first update (B = 0), as PEFT files. */
  | { kind: 'lora'; init: PeftFiles }
  | { kind: 'full' };

export interface RecipeSpec {
  /** `path` is where the recipe finds the checkpoint (absolute, or relative to the folder). */
  model: { path: string; name: string; fingerprint: string };
  data: RecipeData;
  method: RecipeMethod;
  /** The run's settings, seqLen resolved (> 0): run.json's `training` is their JSON form (config.ts). */
  training: TrainConfig;
}

/** The `training` record of run.json; the recipe copies it into the adapter's s2ft_config.training. */
export function trainingRecord(t: TrainConfig, dataSource: string): Record<string, unknown> {
  return { ...trainConfigToJson(t), data: dataSource };
}

/** run.json: everything train.py reads besides the selection, the initial LoRA adapter and the data rows. */
export function runJson(spec: RecipeSpec): Record<string, unknown> {
  const { data, method } = spec;
  return {
    format: 's2ft-recipe',
    version: 1,
    model: spec.model,
    data: {
      path: TOKENS_FILE,
      source: data.source,
      pack: data.pack,
      eos_token_id: data.eosTokenId,
    },
    ...(method.kind === 's2ft' && { selection: { path: SELECTION_FILE, info: method.selectionInfo } }),
    ...(method.kind === 'lora' && { lora: { init: LORA_INIT_DIR } }),
    training: trainingRecord(spec.training, data.source),
    out: RECIPE_OUT[method.kind],
  };
}

/** Pre-tokenized rows: {"input_ids", "labels"} with labels = id where it counts, else -100 (HF convention). */
export function tokensJsonl(examples: readonly TokenizedExample[]): string {
  return (
    examples
      .map((e) =>
        JSON.stringify({
          input_ids: e.inputIds,
          labels: e.inputIds.map((id, t) => (e.lossMask[t] ? id : IGNORE_INDEX)),
        }),
      )
      .join('\n') + '\n'
  );
}

/** A README section about this run, put before the template's README. */
export function runReadme(spec: RecipeSpec): string {
  const t = spec.training;
  const o = optimizerSettings(t);
  const opt =
    o.kind === 'adamw'
      ? `AdamW (β ${o.beta1}/${o.beta2}, ε ${o.epsilon}, weight decay ${o.weightDecay})`
      : `SGD (momentum ${o.momentum}, weight decay ${o.weightDecay})`;
  const data = `\`${TOKENS_FILE}\` (${spec.data.examples.length} rows of \`${spec.data.source}\`, tokenized by the studio)`;
  return [
    `# ${METHOD_TITLE[spec.method.kind]} run: ${spec.model.name}`,
    '',
    `- Base model: \`${spec.model.path}\` (fingerprint \`${spec.model.fingerprint}\`); pass \`--model DIR\` where it lives elsewhere.`,
    `- Data: ${data}.`,
    `- ${methodLine(spec.method, t)}`,
    `- Training: ${t.steps} updates of ${t.batchSize} rows × ${t.seqLen} tokens, ${opt}, lr ${t.lr} ` +
      `(${t.schedule}, ${t.warmup} warm-up), grad clip ${t.gradClip}, grad accumulation ${t.gradAccum}, seed ${t.seed}.`,
    `- ${WRITES[spec.method.kind]}`,
    '',
    '',
  ].join('\n');
}

const METHOD_TITLE = { s2ft: 'S²FT', lora: 'LoRA', full: 'Full fine-tuning' } as const;

const WRITES = {
  s2ft: `Writes \`${RECIPE_OUT.s2ft}\`: import it in the studio (Adapters) or \`npm run cli -- generate --adapter\`.`,
  lora: `Writes \`${RECIPE_OUT.lora}/\`, a PEFT LoRA adapter: import it in the studio (Adapters) or load it with PEFT.`,
  full: `Writes \`${RECIPE_OUT.full}/\`, a checkpoint directory: open it in the studio or \`npm run cli -- generate --model\`.`,
} as const;

function methodLine(method: RecipeMethod, t: TrainConfig): string {
  switch (method.kind) {
    case 's2ft':
      return `Selection: \`${SELECTION_FILE}\` (strategy ${method.selectionInfo.strategy}, seed ${method.selectionInfo.seed}).`;
    case 'lora':
      return (
        `LoRA: rank ${t.loraRank}, alpha ${loraAlpha(t)}, dropout ${t.loraDropout}, starting from the studio's ` +
        `initial adapter in \`${LORA_INIT_DIR}/\`.`
      );
    case 'full':
      return 'Full fine-tuning: every weight trains, in float32.';
  }
}

/**
 * Every file of the exported folder: the template files (README.md prefixed with this run's
 * section), run.json, the tokenized data, and selection.json (S²FT) or lora_init/ (LoRA).
 */
export function assembleRecipe(
  template: ReadonlyMap<string, string>,
  spec: RecipeSpec,
): Map<string, string | Uint8Array> {
  const files = new Map<string, string | Uint8Array>();
  for (const name of TEMPLATE_FILES) {
    const text = template.get(name);
    if (text === undefined) throw new Error(`recipe template is missing ${name}`);
    files.set(name, name === README_FILE ? runReadme(spec) + text : text);
  }
  files.set(RUN_FILE, `${JSON.stringify(runJson(spec), null, 2)}\n`);
  files.set(TOKENS_FILE, tokensJsonl(spec.data.examples));
  const { method } = spec;
  if (method.kind === 's2ft') files.set(SELECTION_FILE, writeSelectionFile(method.selection));
  if (method.kind === 'lora')
    for (const [name, bytes] of Object.entries(method.init)) files.set(`${LORA_INIT_DIR}/${name}`, bytes);
  return files;
}
