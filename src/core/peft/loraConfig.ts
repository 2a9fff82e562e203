/**
 * PEFT's adapter_config.json for LoRA, read as PEFT's LoraConfig reads it,
 * keeping only what decides the update ΔW = scaling · B · A of each adapted linear:
 *
 *   r, lora_alpha, use_rslora      scaling = lora_alpha / r   (lora_alpha / √r with use_rslora)
 *   rank_pattern, alpha_pattern    per-module r and lora_alpha (keys are regexes, loraTargets.ts)
 *   target_modules                 a list (exact name or ".name" suffix), a regex (full match), or "all-linear"
 *   exclude_modules                the same forms, taken out first
 *   layers_to_transform (+ layers_pattern)   only these layer indices (list form of target_modules only)
 *   fan_in_fan_out                 PEFT sets it to false for torch.nn.Linear, which every LLaMA projection is
 *
 * Every key is allow-listed: a setting that changes the computation and is not implemented here
 * (DoRA, modules_to_save, a bias, other PEFT types, initialisations that rewrite the base weights,
 * ...) is refused in one line naming it, and so is a key this reader does not know.
 */
import { RE2JS } from 're2js';
import { describeJson } from '../describeJson';
import { UserError } from '../errors';

/** Which modules an adapter names: exact names / suffixes, one regex (full match), or every linear. */
export type ModuleSpec =
  { kind: 'names'; names: string[] } | { kind: 'regex'; pattern: string; regex: RE2JS } | { kind: 'all-linear' };

export interface LoraConfig {
  r: number;
  loraAlpha: number;
  useRslora: boolean;
  targetModules: ModuleSpec;
  excludeModules: ModuleSpec | null;
  /** Layer indices to adapt (null: all). */
  layersToTransform: number[] | null;
  /** Names of the layer list in a module key (null: the first numbered segment). */
  layersPattern: RE2JS[] | null;
  /** [key, value] in file order: the first key that matches a module wins. */
  rankPattern: [string, number][];
  alphaPattern: [string, number][];
  /** What PEFT does with fan_in_fan_out: true on a torch.nn.Linear (a one-line note, or null). */
  fanInFanOutNote: string | null;
  /** True when a module the config adapts but the weights leave out gets ΔW = 0 (B starts at zero). */
  missingModulesAreZero: boolean;
  baseModelName: string | null;
}

/** PEFT's default targets for the architectures this studio loads (utils/constants.py). */
const DEFAULT_TARGETS = ['q_proj', 'v_proj'];
/** Longest regex or name accepted, and most entries in a list or pattern map: far above real configs. */
const MAX_PATTERN_CHARS = 4096;
const MAX_ENTRIES = 100_000;

type Check = (value: unknown) => boolean;
const isNull = (v: unknown) => v === null || v === undefined;
const isFalse: Check = (v) => isNull(v) || v === false;
const isEmpty: Check = (v) =>
  isNull(v) ||
  (Array.isArray(v) && v.length === 0) ||
  (typeof v === 'object' && v !== null && Object.keys(v).length === 0);

/** Keys that change the computation, and the values under which they change nothing. */
const MUST_BE_OFF = new Map<string, { ok: Check; why: string }>(
  Object.entries({
    use_dora: { ok: isFalse, why: 'DoRA is not supported' },
    modules_to_save: { ok: isEmpty, why: 'fully trained extra modules are not supported' },
    bias: { ok: (v) => isNull(v) || v === 'none', why: 'only "none" is supported (no trained biases)' },
    lora_bias: { ok: isFalse, why: 'LoRA biases are not supported' },
    layer_replication: { ok: isEmpty, why: 'layer replication is not supported' },
    megatron_config: { ok: isEmpty, why: 'Megatron parallel layers are not supported' },
    trainable_token_indices: { ok: isEmpty, why: 'trainable tokens are not supported' },
    target_parameters: { ok: isEmpty, why: 'adapting parameters directly is not supported' },
    alora_invocation_tokens: { ok: isEmpty, why: 'activated LoRA is not supported' },
    use_qalora: { ok: isFalse, why: 'QA-LoRA is not supported' },
    use_bdlora: { ok: isEmpty, why: 'block-diagonal LoRA is not supported' },
    arrow_config: { ok: isEmpty, why: 'Arrow routing is not supported' },
    kasa_config: { ok: isEmpty, why: 'KaSA is not supported' },
    velora_config: { ok: isEmpty, why: 'VeLoRA is not supported' },
    monteclora_config: { ok: isEmpty, why: 'MonteCLoRA is not supported' },
  }),
);

/** Keys that do not change the update once the weights are trained (provenance, training-time settings). */
const NO_EFFECT = new Set([
  'peft_type',
  'task_type',
  'base_model_name_or_path',
  'revision',
  'inference_mode',
  'lora_dropout',
  'auto_mapping',
  'megatron_core',
  'runtime_config',
  'qalora_group_size',
  'ensure_weight_tying',
  'peft_version',
  'loftq_config',
  'eva_config',
  'corda_config',
  'lora_ga_config',
]);

const IMPLEMENTED = new Set([
  'r',
  'lora_alpha',
  'use_rslora',
  'target_modules',
  'exclude_modules',
  'layers_to_transform',
  'layers_pattern',
  'rank_pattern',
  'alpha_pattern',
  'fan_in_fan_out',
  'init_lora_weights',
]);

export function parseLoraConfig(json: unknown, label: string): LoraConfig {
  const fail = (field: string, problem: string, code: 'bad-file' | 'unsupported' = 'bad-file'): never => {
    throw new UserError(code, `${field} ${problem}`, label);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('(root)', 'must be a JSON object');
  const c = json as Record<string, unknown>;
  const shown = (field: string) => describeJson(c[field]);

  if (c.peft_type !== 'LORA')
    fail('peft_type', `is ${shown('peft_type')}; only "LORA" adapters are supported`, 'unsupported');
  if (!isNull(c.task_type) && c.task_type !== 'CAUSAL_LM')
    fail('task_type', `is ${shown('task_type')}; only "CAUSAL_LM" adapters fit a causal language model`, 'unsupported');
  for (const key of Object.keys(c)) {
    // A Map, so that a key such as "constructor" finds nothing on Object.prototype.
    const off = MUST_BE_OFF.get(key);
    if (off) {
      if (!off.ok(c[key])) fail(key, `is ${shown(key)}: ${off.why}`, 'unsupported');
    } else if (!NO_EFFECT.has(key) && !IMPLEMENTED.has(key)) {
      fail(
        key,
        'is not a LoRA setting this studio knows, so it cannot tell whether it changes the computation',
        'unsupported',
      );
    }
  }

  const positiveInt = (field: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0)
      fail(field, `must be a positive integer, got ${describeJson(v)}`);
    return v as number;
  };
  const finite = (field: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(field, `must be a finite number, got ${describeJson(v)}`);
    return v as number;
  };
  const bool = (field: string): boolean => {
    if (isNull(c[field])) return false;
    if (typeof c[field] !== 'boolean') fail(field, `must be true or false, got ${shown(field)}`);
    return c[field] as boolean;
  };
  const regex = (field: string, pattern: string): RE2JS => {
    if (pattern.length > MAX_PATTERN_CHARS) fail(field, `has a pattern over ${MAX_PATTERN_CHARS} characters`);
    try {
      return RE2JS.compile(pattern);
    } catch (e) {
      return fail(field, `has a regex this studio cannot use (${(e as Error).message})`, 'unsupported');
    }
  };
  const strings = (field: string, v: unknown[]): string[] => {
    if (v.length > MAX_ENTRIES) fail(field, `has more than ${MAX_ENTRIES} entries`);
    for (const s of v)
      if (typeof s !== 'string' || s.length > MAX_PATTERN_CHARS)
        fail(field, `must list module names, found ${describeJson(s)}`);
    return v as string[];
  };
  const moduleSpec = (field: string): ModuleSpec | null => {
    const v = c[field];
    if (isNull(v)) return null;
    if (typeof v === 'string') {
      if (field === 'target_modules' && v.toLowerCase() === 'all-linear') return { kind: 'all-linear' };
      return { kind: 'regex', pattern: v, regex: regex(field, v) };
    }
    if (Array.isArray(v)) return { kind: 'names', names: strings(field, v) };
    return fail(field, `must be a list of module names or a regex string, got ${shown(field)}`);
  };
  const pattern = (field: string, value: (f: string, v: unknown) => number): [string, number][] => {
    const v = c[field];
    if (isNull(v)) return [];
    if (typeof v !== 'object' || Array.isArray(v)) return fail(field, `must be an object, got ${shown(field)}`);
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length > MAX_ENTRIES) fail(field, `has more than ${MAX_ENTRIES} entries`);
    return entries.map(([key, n]) => {
      regex(`${field} key ${describeJson(key)}`, key);
      return [key, value(`${field}[${describeJson(key)}]`, n)];
    });
  };

  const r = positiveInt('r', c.r ?? 8);
  const loraAlpha = finite('lora_alpha', c.lora_alpha ?? 8);
  const useRslora = bool('use_rslora');
  const targetModules = moduleSpec('target_modules') ?? { kind: 'names', names: DEFAULT_TARGETS };
  const excludeModules = moduleSpec('exclude_modules');

  let layersToTransform: number[] | null = null;
  const layers = c.layers_to_transform;
  if (!isNull(layers)) {
    const list = typeof layers === 'number' ? [layers] : layers;
    if (!Array.isArray(list) || list.length > MAX_ENTRIES || !list.every((i) => Number.isSafeInteger(i) && i >= 0))
      fail('layers_to_transform', `must be a layer index or a list of them, got ${shown('layers_to_transform')}`);
    layersToTransform = (list as number[]).length > 0 ? (list as number[]) : null;
  }
  let layersPattern: RE2JS[] | null = null;
  const lp = c.layers_pattern;
  if (!isNull(lp)) {
    const list = typeof lp === 'string' ? [lp] : lp;
    if (!Array.isArray(list))
      return fail('layers_pattern', `must be a string or a list of them, got ${shown('layers_pattern')}`);
    // PEFT: re.match(rf".*?\.{pattern}\.(\d+)\.", key) for each pattern; an empty one means any.
    const names = strings('layers_pattern', list);
    layersPattern = names.length > 0 ? names.map((p) => regex('layers_pattern', `.*?\\.${p}\\.(\\d+)\\.`)) : null;
  }
  // PEFT's LoraConfig.__post_init__ refuses these combinations.
  if (targetModules.kind !== 'names' && layersToTransform !== null)
    fail('layers_to_transform', 'cannot be used when target_modules is a string (PEFT refuses it)');
  if (targetModules.kind !== 'names' && !isNull(lp))
    fail('layers_pattern', 'cannot be used when target_modules is a string (PEFT refuses it)');
  if (layersPattern !== null && isNull(layers))
    fail('layers_pattern', 'needs layers_to_transform (PEFT refuses it alone)');

  const init = c.init_lora_weights ?? true;
  if (init !== true && init !== false && init !== 'gaussian')
    fail(
      'init_lora_weights',
      `is ${shown('init_lora_weights')}: only true, false or "gaussian" (initialisations that leave the base weights as they are) are supported`,
      'unsupported',
    );

  return {
    r,
    loraAlpha,
    useRslora,
    targetModules,
    excludeModules,
    layersToTransform,
    layersPattern,
    rankPattern: pattern('rank_pattern', positiveInt),
    alphaPattern: pattern('alpha_pattern', finite),
    fanInFanOutNote: bool('fan_in_fan_out')
      ? `${label}: fan_in_fan_out is true, and PEFT sets it to false on torch.nn.Linear modules (every LLaMA projection), as this studio does`
      : null,
    missingModulesAreZero: init !== false,
    baseModelName: typeof c.base_model_name_or_path === 'string' ? c.base_model_name_or_path : null,
  };
}
