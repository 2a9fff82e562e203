/**
 * Which linears of a LLaMA a PEFT LoRA config adapts, and with which rank and alpha, decided as
 * PEFT decides it (its check_target_module_exists, get_pattern_key and the LoRA model's
 * _create_and_replace). PEFT walks every module name of the
 * LlamaForCausalLM (`model.layers.3.self_attn.q_proj`, `model.layers.3.mlp`, `lm_head`, ...):
 *
 *   excluded  exclude_modules: regex full match, or the exact name, or a ".name" suffix
 *   matched   target_modules regex: full match;  list: the exact name (no layer filter), or a
 *             ".name" suffix whose layer index (first numbered segment, or the one after a
 *             layers_pattern) is in layers_to_transform;  "all-linear": every projection
 *   r, alpha  the first rank_pattern / alpha_pattern key k (file order) with `(.*\.)?(k)$`
 *             matching the name from its start, else r / lora_alpha
 *
 * Regexes run on RE2 (re2js): linear time, so a hostile pattern cannot stall the loader.
 */
import { RE2JS } from 're2js';
import { UserError } from '../errors';
import { MODULE_NAMES, linearWeightName, type ModuleName } from '../model/types';
import type { LoraConfig, ModuleSpec } from './loraConfig';

export interface LoraTarget {
  layer: number;
  module: ModuleName;
  /** PEFT's name for it, e.g. model.layers.3.self_attn.q_proj. */
  key: string;
  r: number;
  alpha: number;
  /** alpha / r, or alpha / √r with use_rslora. */
  scaling: number;
}

/** Every module name of a LlamaForCausalLM, as torch's named_modules() lists them. */
function llamaModuleNames(numLayers: number): { key: string; linear?: { layer: number; module: ModuleName } }[] {
  const names: { key: string; linear?: { layer: number; module: ModuleName } }[] = [
    { key: '' },
    { key: 'model' },
    { key: 'model.embed_tokens' },
    { key: 'model.layers' },
  ];
  for (let layer = 0; layer < numLayers; layer++) {
    const prefix = `model.layers.${layer}`;
    names.push({ key: prefix }, { key: `${prefix}.self_attn` }, { key: `${prefix}.mlp` });
    for (const module of MODULE_NAMES) names.push({ key: linearWeightName(layer, module), linear: { layer, module } });
    names.push(
      { key: `${prefix}.mlp.act_fn` },
      { key: `${prefix}.input_layernorm` },
      { key: `${prefix}.post_attention_layernorm` },
    );
  }
  names.push({ key: 'model.norm' }, { key: 'model.rotary_emb' }, { key: 'lm_head' });
  return names;
}

function namesMatch(names: string[], key: string): boolean {
  return names.some((name) => key === name || key.endsWith(`.${name}`));
}

function excluded(spec: ModuleSpec | null, key: string): boolean {
  if (!spec) return false;
  if (spec.kind === 'regex') return spec.regex.matches(key);
  return spec.kind === 'names' && namesMatch(spec.names, key);
}

const DEFAULT_LAYER_INDEX = RE2JS.compile('.*?\\.[^.]*\\.(\\d+)\\.');

function layerIndex(config: LoraConfig, key: string): number | null {
  for (const re of config.layersPattern ?? [DEFAULT_LAYER_INDEX]) {
    const m = re.matcher(key);
    if (m.lookingAt()) return Number(m.group(1));
  }
  return null;
}

function targeted(config: LoraConfig, key: string, isLinear: boolean): boolean {
  const spec = config.targetModules;
  if (spec.kind === 'all-linear') return isLinear;
  if (spec.kind === 'regex') return spec.regex.matches(key);
  if (spec.names.includes(key)) return true;
  if (!spec.names.some((name) => key.endsWith(`.${name}`))) return false;
  if (config.layersToTransform === null) return true;
  const index = layerIndex(config, key);
  return index !== null && config.layersToTransform.includes(index);
}

/** PEFT's get_pattern_key: the first key k with `(.*\.)?(k)$` matching from the start of the name. */
function patternValue(entries: [string, number][], compiled: RE2JS[], key: string): number | undefined {
  const i = compiled.findIndex((re) => re.matcher(key).lookingAt());
  return i < 0 ? undefined : entries[i][1];
}

export function loraTargets(config: LoraConfig, numLayers: number, label: string): LoraTarget[] {
  const compile = (entries: [string, number][]) => entries.map(([k]) => RE2JS.compile(`(.*\\.)?(${k})$`));
  const rankRes = compile(config.rankPattern);
  const alphaRes = compile(config.alphaPattern);
  const targets: LoraTarget[] = [];
  for (const { key, linear } of llamaModuleNames(numLayers)) {
    if (excluded(config.excludeModules, key) || !targeted(config, key, linear !== undefined)) continue;
    if (!linear) {
      throw new UserError(
        'unsupported',
        `target_modules adapts "${key}", which this studio cannot adapt (only the attention and MLP projections)`,
        label,
      );
    }
    const r = patternValue(config.rankPattern, rankRes, key) ?? config.r;
    const alpha = patternValue(config.alphaPattern, alphaRes, key) ?? config.loraAlpha;
    targets.push({ ...linear, key, r, alpha, scaling: config.useRslora ? alpha / Math.sqrt(r) : alpha / r });
  }
  return targets;
}
