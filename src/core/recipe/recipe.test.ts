/**
 * The exported recipe folder's own files: run.json carries the run's settings as train.py reads
 * them, and the studio-tokenized rows keep the studio's loss mask (prompt tokens → label -100).
 * (recipe/recipe.test.ts runs the folder on PyTorch.)
 */
import { describe, expect, it } from 'vitest';
import { parseDataset } from '../train/data';
import { charTokenizer, TEST_EOS } from '../train/testTokenizer';
import { trainConfig } from '../train/config';
import { ADAMW_DEFAULTS } from '../train/optimizerSettings';
import {
  assembleRecipe,
  LORA_INIT_DIR,
  runJson,
  TEMPLATE_FILES,
  TOKENS_FILE,
  tokensJsonl,
  type RecipeSpec,
} from './recipe';

const text = [
  '{"instruction": "hi", "output": "yo"}',
  '{"text": "abc"}',
  '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}',
].join('\n');
const dataset = parseDataset(text, 'data.jsonl', { tokenizer: charTokenizer() });

const spec: RecipeSpec = {
  model: { path: '/models/tiny', name: 'tiny', fingerprint: '0123456789abcdef' },
  data: { source: 'data.jsonl', examples: dataset.examples, pack: false, eosTokenId: TEST_EOS },
  method: {
    kind: 's2ft',
    selection: { layers: [{ heads: [3, 1], channels: [5] }] },
    selectionInfo: { strategy: 'file', seed: 7 },
  },
  training: trainConfig({
    optimizer: 'adamw',
    lr: 2e-4,
    steps: 10,
    batchSize: 8,
    gradAccum: 2,
    seqLen: 32,
    seed: 7,
    warmup: 1,
    schedule: 'cosine',
    gradClip: 1,
  }),
};

describe('recipe files', () => {
  it('writes the studio tokens with -100 exactly where the studio does not count the loss', () => {
    const rows = tokensJsonl(dataset.examples)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { input_ids: number[]; labels: number[] });
    expect(rows).toHaveLength(3);
    rows.forEach((row, i) => {
      const e = dataset.examples[i];
      expect(row.input_ids).toEqual(e.inputIds);
      expect(row.labels).toEqual(e.inputIds.map((id, t) => (e.lossMask[t] ? id : -100)));
    });
    // Instruction row: the prompt is ignored, the answer "yo" and the end-of-sequence token count.
    const counted = rows[0].labels.filter((l) => l !== -100);
    expect(counted).toEqual([...'yo'].map((c) => c.charCodeAt(0)).concat(TEST_EOS));
    expect(rows[1].labels).toEqual(rows[1].input_ids);
  });

  it('run.json holds the settings train.py reads', () => {
    const run = runJson(spec) as Record<string, Record<string, unknown>>;
    expect(run.model).toEqual(spec.model);
    expect(run.data).toEqual({
      path: TOKENS_FILE,
      source: 'data.jsonl',
      pack: false,
      eos_token_id: TEST_EOS,
    });
    expect(run.selection).toEqual({ path: 'selection.json', info: { strategy: 'file', seed: 7 } });
    expect(run.training).toMatchObject({
      method: 's2ft',
      optimizer: ADAMW_DEFAULTS,
      lr: 2e-4,
      steps: 10,
      batch_size: 8,
      grad_accum: 2,
      seq_len: 32,
      warmup: 1,
      schedule: 'cosine',
      grad_clip: 1,
      seed: 7,
    });
  });

  it('assembles the template, the run files and a README that starts with this run', () => {
    const template = new Map(TEMPLATE_FILES.map((f) => [f, `template ${f}\n`]));
    const files = assembleRecipe(template, spec);
    expect([...files.keys()].sort()).toEqual([...TEMPLATE_FILES, 'run.json', 'selection.json', TOKENS_FILE].sort());
    expect(files.get('train.py')).toBe('template train.py\n');
    expect(files.has(LORA_INIT_DIR + '/adapter_config.json')).toBe(false);
    expect(files.get('README.md')).toMatch(
      /^# S²FT run: tiny[\s\S]*10 updates of 8 rows × 32 tokens[\s\S]*template README.md\n$/,
    );
    expect(JSON.parse(files.get('selection.json') as string)).toEqual({ layers: [{ heads: [1, 3], channels: [5] }] });
    expect(() => assembleRecipe(new Map(), spec)).toThrow(/missing train.py/);
  });
  it('a LoRA run carries its initial adapter and no selection; a full run carries neither', () => {
    const init = {
      'adapter_config.json': new Uint8Array([123, 125]),
      'adapter_model.safetensors': new Uint8Array([1, 2, 3]),
    };
    const lora: RecipeSpec = {
      ...spec,
      method: { kind: 'lora', init },
      training: { ...spec.training, method: 'lora' },
    };
    const files = assembleRecipe(new Map(TEMPLATE_FILES.map((f) => [f, ''])), lora);
    expect(files.get(`${LORA_INIT_DIR}/adapter_model.safetensors`)).toEqual(new Uint8Array([1, 2, 3]));
    expect(files.has('selection.json')).toBe(false);
    const run = runJson(lora);
    expect(run).toMatchObject({ lora: { init: LORA_INIT_DIR }, out: 'lora-adapter', training: { method: 'lora' } });
    expect(run).not.toHaveProperty('selection');
    expect(files.get('README.md')).toMatch(
      /^# LoRA run: tiny[\s\S]*rank 8, alpha 16, dropout 0[\s\S]*PEFT LoRA adapter/,
    );

    const full: RecipeSpec = { ...spec, method: { kind: 'full' }, training: { ...spec.training, method: 'full' } };
    const fullFiles = assembleRecipe(new Map(TEMPLATE_FILES.map((f) => [f, ''])), full);
    expect([...fullFiles.keys()].sort()).toEqual([...TEMPLATE_FILES, 'run.json', TOKENS_FILE].sort());
    expect(runJson(full)).toMatchObject({ out: 'fine-tuned-model', training: { method: 'full' } });
    expect(fullFiles.get('README.md')).toMatch(/^# Full fine-tuning run: tiny[\s\S]*every weight trains/);
  });
});
