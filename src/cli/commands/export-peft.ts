/**
 * `export-peft --adapter FILE --out DIR`: the PEFT LoRA folder (adapter_config.json +
 * adapter_model.safetensors) of a native S²FT adapter, byte for byte the files of the studio's
 * PEFT-LoRA zip (both come from s2ft/peft.ts exportPeftLora). Its target_modules names exactly the
 * adapted linears, so PEFT loads it without a missing-keys warning:
 *
 *   model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(BASE), DIR)
 */
import path from 'node:path';
import { UserError } from '../../core/errors';
import { writeFilesToDirectory } from '../../core/io/nodeFiles';
import { decodeS2ftAdapter, MAX_ADAPTER_BYTES } from '../../core/s2ft/adapter';
import { exportPeftLora } from '../../core/s2ft/peft';
import type { CommandRun } from '../command';
import { readUserBytes } from '../lib/files';

export const run: CommandRun = async ({ flags, log }) => {
  const file = flags.requireString('adapter');
  const out = flags.requireString('out');
  if (flags.all('adapter').length > 1) throw new UserError('bad-argument', 'export-peft takes one --adapter');
  if (path.resolve(out) === path.resolve(file))
    throw new UserError('bad-argument', '--out must not be the adapter file itself', out);
  const adapter = decodeS2ftAdapter(await readUserBytes(file, 'adapter file', MAX_ADAPTER_BYTES), file);
  const files = exportPeftLora(adapter);
  await writeFilesToDirectory(out, new Map(Object.entries(files)));
  const modules = adapter.blocks.length;
  log(`wrote the PEFT LoRA form of ${file} (${modules} adapted linears, exact) to ${out}`);
  return { adapter: file, out, files: Object.keys(files), modules };
};
