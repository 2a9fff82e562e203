/**
 * "Scale out": the studio's current run (S²FT, LoRA or full fine-tuning) as the PyTorch recipe
 * folder (recipe/template plus run.json, the tokenized rows, and selection.json or lora_init/),
 * zipped for download. The same folder
 * `npm run cli -- export-recipe` writes; the template files are bundled as text (?raw imports).
 */
import { zipSync } from 'fflate';
import { assembleRecipe, README_FILE, type RecipeSpec } from '../src/core/recipe/recipe';
import adapterPy from '../recipe/template/adapter.py?raw';
import dataPy from '../recipe/template/data.py?raw';
import fullPy from '../recipe/template/full.py?raw';
import loraPy from '../recipe/template/lora.py?raw';
import modelPy from '../recipe/template/model.py?raw';
import readme from '../recipe/template/README.md?raw';
import requirements from '../recipe/template/requirements.txt?raw';
import s2ftPy from '../recipe/template/s2ft.py?raw';
import safetensorsPy from '../recipe/template/safetensors_io.py?raw';
import trainPy from '../recipe/template/train.py?raw';
import { toArrayBuffer } from './adapters';
import type { ExportedFile } from './api';

const TEMPLATE = new Map<string, string>([
  ['train.py', trainPy],
  ['model.py', modelPy],
  ['s2ft.py', s2ftPy],
  ['lora.py', loraPy],
  ['full.py', fullPy],
  ['data.py', dataPy],
  ['adapter.py', adapterPy],
  ['safetensors_io.py', safetensorsPy],
  ['requirements.txt', requirements],
  ['README.md', readme],
]);

/** The folder (and zip) name: the model's name made safe for a file system, and the method. */
export function recipeFolderName(modelName: string, method: RecipeSpec['method']['kind']): string {
  return `${modelName.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 60) || 'model'}-${method}-recipe`;
}

/**
 * The recipe folder as a zip whose entries sit under one folder. A browser has no path to the
 * checkpoint, so run.json names the model only and the README says to pass `--model DIR`.
 */
export function recipeZip(spec: RecipeSpec): ExportedFile {
  const files = assembleRecipe(TEMPLATE, spec);
  const runReadme = files.get(README_FILE) as string;
  const heading = runReadme.indexOf('\n\n');
  files.set(
    README_FILE,
    `${runReadme.slice(0, heading)}\n\n` +
      `Exported from the studio, which cannot see where the base model lives on disk: run.json names it ` +
      `\`${spec.model.path}\`. Point the recipe at the Hugging Face checkpoint directory (config.json, ` +
      `model.safetensors) with \`--model DIR\`, e.g. \`torchrun --nproc_per_node N train.py --model /path/to/${spec.model.name}\`; ` +
      `its fingerprint here is \`${spec.model.fingerprint}\`, and an adapter the recipe writes imports onto that model only.\n` +
      runReadme.slice(heading),
  );
  const folder = recipeFolderName(spec.model.name, spec.method.kind);
  const encoder = new TextEncoder();
  const entries = Object.fromEntries(
    [...files].map(([name, content]) => [
      `${folder}/${name}`,
      typeof content === 'string' ? encoder.encode(content) : content,
    ]),
  );
  return { fileName: `${folder}.zip`, bytes: toArrayBuffer(zipSync(entries)) };
}
