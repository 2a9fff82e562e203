/**
 * The PyTorch scale-out recipe of a studio run (issue 9): the files of an exported folder, built
 * from the run's settings, selection and data, next to the template files (recipe/template/:
 * train.py, model.py, s2ft.py, data.py, adapter.py, safetensors_io.py, requirements.txt, README.md).
 *
 * The data is tokenized here, by the studio's own parser (same tokenizer, instruction template,
 * chat template and loss masking), and written as pre-tokenized rows, so the recipe trains on
 * exactly the tokens the studio would and needs no tokenizer.
 *
 * Pure: the caller reads the template and writes the files (node:fs in the CLI, a zip in the app).
 */
import type { TokenizedExample } from '../train/data';
import { IGNORE_INDEX } from '../train/batch';
import { optimizerSettings, trainConfigToJson, type TrainConfig } from '../train/config';
import type { AdapterInfo } from '../s2ft/adapter';
import { writeSelectionFile } from '../s2ft/selectionFile';
import type { Selection } from '../s2ft/types';

export const RUN_FILE = 'run.json';
export const SELECTION_FILE = 'selection.json';
export const TOKENS_FILE = 'train.tokens.jsonl';
export const README_FILE = 'README.md';
export const ADAPTER_FILE = 'adapter.safetensors';
/** The template files an exported folder contains (besides the files written per run). */
export const TEMPLATE_FILES = [
  'train.py',
  'model.py',
  's2ft.py',
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

export interface RecipeSpec {
  /** `path` is where the recipe finds the checkpoint (absolute, or relative to the folder). */
  model: { path: string; name: string; fingerprint: string };
  data: RecipeData;
  selection: Selection;
  selectionInfo: AdapterInfo['selection'];
  /** The run's settings, seqLen resolved (> 0): run.json's `training` is their JSON form (config.ts). */
  training: TrainConfig;
}

/** The `training` record of run.json; the recipe copies it into the adapter's s2ft_config.training. */
export function trainingRecord(t: TrainConfig, dataSource: string): Record<string, unknown> {
  return { ...trainConfigToJson(t), data: dataSource };
}

/** run.json: everything train.py reads besides the selection and the data rows. */
export function runJson(spec: RecipeSpec): Record<string, unknown> {
  const { data } = spec;
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
    selection: { path: SELECTION_FILE, info: spec.selectionInfo },
    training: trainingRecord(spec.training, data.source),
    out: ADAPTER_FILE,
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
    `# S²FT run: ${spec.model.name}`,
    '',
    `- Base model: \`${spec.model.path}\` (fingerprint \`${spec.model.fingerprint}\`); pass \`--model DIR\` where it lives elsewhere.`,
    `- Data: ${data}.`,
    `- Selection: \`${SELECTION_FILE}\` (strategy ${spec.selectionInfo.strategy}, seed ${spec.selectionInfo.seed}).`,
    `- Training: ${t.steps} updates of ${t.batchSize} rows × ${t.seqLen} tokens, ${opt}, lr ${t.lr} ` +
      `(${t.schedule}, ${t.warmup} warm-up), grad clip ${t.gradClip}, grad accumulation ${t.gradAccum}, seed ${t.seed}.`,
    `- Writes \`${ADAPTER_FILE}\`: import it in the studio (Adapters) or \`npm run cli -- generate --adapter\`.`,
    '',
    '',
  ].join('\n');
}

/**
 * Every file of the exported folder: the template files (README.md prefixed with this run's
 * section), run.json, selection.json and the tokenized data.
 */
export function assembleRecipe(template: ReadonlyMap<string, string>, spec: RecipeSpec): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of TEMPLATE_FILES) {
    const text = template.get(name);
    if (text === undefined) throw new Error(`recipe template is missing ${name}`);
    files.set(name, name === README_FILE ? runReadme(spec) + text : text);
  }
  files.set(RUN_FILE, `${JSON.stringify(runJson(spec), null, 2)}\n`);
  files.set(SELECTION_FILE, writeSelectionFile(spec.selection));
  files.set(TOKENS_FILE, tokensJsonl(spec.data.examples));
  return files;
}
