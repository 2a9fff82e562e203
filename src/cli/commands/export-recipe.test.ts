/** export-recipe's refusals (the successful export is exercised end to end in recipe/recipe.test.ts). */
import { describe, expect, it } from 'vitest';
import { Flags, parseArgs } from '../args';
import { run } from './export-recipe';

const exportRecipe = (argv: string[]) =>
  run({ flags: new Flags(parseArgs(argv, new Set()).flags), json: true, log: () => {} });

describe('export-recipe', () => {
  it('writes S²FT recipes only', async () => {
    await expect(exportRecipe(['--model', 'm', '--data', 'd.jsonl', '--method', 'lora', '--out', 'o']))
      .rejects.toThrow(/S²FT recipes only; --method lora/);
  });

  it('needs a selection file', async () => {
    await expect(exportRecipe(['--model', 'm', '--data', 'd.jsonl', '--out', 'o'])).rejects.toThrow(/needs --selection FILE/);
  });

  it('names a missing model directory', async () => {
    await expect(exportRecipe(['--model', '/nonexistent/model', '--data', 'd.jsonl', '--selection', 's.json', '--out', 'o']))
      .rejects.toThrow(/model directory not found/);
  });
});
