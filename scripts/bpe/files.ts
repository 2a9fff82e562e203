/** Writes a trained tokenizer as tokenizer.json + tokenizer_config.json into a directory. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tokenizerConfigJson, tokenizerJson } from './hfFiles';
import type { BpeModel } from './train';

export function writeTokenizerFiles(dir: string, model: BpeModel, modelMaxLength: number): string[] {
  mkdirSync(dir, { recursive: true });
  const files = [
    [join(dir, 'tokenizer.json'), tokenizerJson(model)],
    [join(dir, 'tokenizer_config.json'), tokenizerConfigJson(model, modelMaxLength)],
  ] as const;
  for (const [path, json] of files) writeFileSync(path, `${JSON.stringify(json, null, 2)}\n`);
  return files.map(([path]) => path);
}
