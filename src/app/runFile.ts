/**
 * A finished run as a JSON file, to take home and import back into Compare:
 *   { "format": "s2ft-studio-run", "version": 1, "savedAt": …,
 *     "summary": { …RunSummary: settings, selection, final numbers },
 *     "steps": [StepPoint…], "evals": [EvalPoint…], "samples": [{ "step", "samples": [{ "prompt", "text" }] }…] }
 * Reading checks every field and keeps only the known ones; a problem is one UserError naming the
 * field. The types are workers/api.ts's; the record is store.ts's RunRecord.
 */
import type { EvalPoint, RunSummary, SampleGeneration, StepPoint, TrainRequest } from '../../workers/api';
import { UserError } from '../core/errors';
import { parseField } from '../core/fieldRules';
import { JsonShape, type JsonObject } from '../core/jsonShape';
import type { LayerSelection, Selection } from '../core/s2ft/types';
import { DEFAULT_TRAIN_CONFIG, TRAIN_FIELDS, TRAIN_KEYS, trainConfigProblems } from '../core/train/config';
import { METHOD_NAMES } from '../core/train/method';
import type { RunRecord, SampleRound } from './store';

export const RUN_FILE_FORMAT = 's2ft-studio-run';
export const RUN_FILE_VERSION = 1;
/** Largest run file read. 100 000 steps take about 30 MB; more is not a run from this studio. */
export const MAX_RUN_FILE_CHARS = 64_000_000;
/** Most step or evaluation points in a run file (the longest run the settings allow is 1 000 000 steps). */
export const MAX_CURVE_POINTS = 100_000;
const MAX_SAMPLE_ROUNDS = 10_000;
const MAX_PROMPTS = 64;
const MAX_LAYERS = 1024;
const MAX_UNITS = 1_000_000;
const MAX_TEXT = 100_000;
const MAX_NAME = 1000;

export function writeRunFile(record: RunRecord): string {
  const { steps, evals, samples } = record.history;
  const file = {
    format: RUN_FILE_FORMAT,
    version: RUN_FILE_VERSION,
    savedAt: record.savedAt,
    summary: record.summary,
    steps,
    evals,
    samples,
  };
  return JSON.stringify(file, null, 1) + '\n';
}

/** A file name for the run's exports: its name made safe for a file system, then the extension. */
export function runFileName(summary: RunSummary, extension: string): string {
  const base = `${summary.name}-${summary.runId}`.replace(/[^A-Za-z0-9._]+/g, '-').replace(/^-+|-+$/g, '');
  return `${base || 'run'}.${extension}`;
}

export function readRunFile(text: string, file = 'run.json'): RunRecord {
  if (text.length > MAX_RUN_FILE_CHARS)
    throw new UserError('too-large', `${text.length} characters, over the limit of ${MAX_RUN_FILE_CHARS}`, file);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError('bad-file', `not valid JSON (${(e as Error).message})`, file);
  }
  const shape = new JsonShape(file);
  const root = shape.object(json, 'the file');
  if (root.format !== RUN_FILE_FORMAT)
    shape.fail('"format"', `"${RUN_FILE_FORMAT}" (a run exported from S²FT Studio's Compare panel)`, root.format);
  if (root.version !== RUN_FILE_VERSION)
    shape.fail('"version"', `${RUN_FILE_VERSION}, the version this studio reads`, root.version);
  const summary = readSummary(shape, shape.object(root.summary, 'summary'));
  return {
    summary,
    history: {
      runId: summary.runId,
      name: summary.name,
      steps: shape.array(root.steps, 'steps', MAX_CURVE_POINTS).map((p, i) => readStep(shape, p, `steps[${i}]`)),
      evals: shape.array(root.evals, 'evals', MAX_CURVE_POINTS).map((p, i) => readEval(shape, p, `evals[${i}]`)),
      samples: shape
        .array(root.samples, 'samples', MAX_SAMPLE_ROUNDS)
        .map((r, i) => readSampleRound(shape, r, `samples[${i}]`)),
    },
    savedAt: shape.number(root.savedAt, 'savedAt'),
  };
}

function readSummary(shape: JsonShape, s: JsonObject): RunSummary {
  const nullableNumber = (key: string) => shape.nullable(s[key], (v) => shape.number(v, `summary.${key}`));
  const summary: RunSummary = {
    runId: shape.string(s.runId, 'summary.runId', 200),
    name: shape.string(s.name, 'summary.name', MAX_NAME),
    status: shape.oneOf(s.status, 'summary.status', ['done', 'stopped', 'error'] as const),
    method: shape.oneOf(s.method, 'summary.method', METHOD_NAMES),
    settings: readSettings(shape, shape.object(s.settings, 'summary.settings')),
    selection: shape.nullable(s.selection, (v) => readSelection(shape, v)),
    modelName: shape.string(s.modelName, 'summary.modelName', MAX_NAME),
    dataName: shape.string(s.dataName, 'summary.dataName', MAX_NAME),
    stepsDone: shape.int(s.stepsDone, 'summary.stepsDone'),
    finalLoss: nullableNumber('finalLoss'),
    finalEvalLoss: nullableNumber('finalEvalLoss'),
    forgettingDelta: nullableNumber('forgettingDelta'),
    medianStepMs: nullableNumber('medianStepMs'),
    peakBytes: nullableNumber('peakBytes'),
    trainableParams: shape.int(s.trainableParams, 'summary.trainableParams'),
    adapterId: shape.nullable(s.adapterId, (v) => shape.string(v, 'summary.adapterId', MAX_NAME)),
  };
  if (s.error !== undefined) {
    const error = shape.object(s.error, 'summary.error');
    summary.error = {
      code: shape.string(error.code, 'summary.error.code', MAX_NAME),
      message: shape.string(error.message, 'summary.error.message', MAX_TEXT),
    };
  }
  return summary;
}

/**
 * The training settings by the same rules as everywhere (src/core/train/config.ts); a field the run
 * predates takes its default.
 */
function readSettings(shape: JsonShape, s: JsonObject): TrainRequest {
  const config: Record<string, unknown> = { ...DEFAULT_TRAIN_CONFIG };
  for (const key of TRAIN_KEYS) {
    if (s[key] === undefined) continue;
    const parsed = parseField(`summary.settings.${key}`, TRAIN_FIELDS[key].rule, s[key]);
    if (!parsed.ok) throw new UserError('bad-file', parsed.reason, shape.file);
    config[key] = parsed.value;
  }
  const settings = config as unknown as TrainRequest;
  const problems = trainConfigProblems(settings);
  if (problems.length > 0) throw new UserError('bad-file', `summary.settings: ${problems.join('; ')}`, shape.file);
  settings.samplePrompts = shape
    .array(s.samplePrompts, 'summary.settings.samplePrompts', MAX_PROMPTS)
    .map((p, i) => shape.string(p, `summary.settings.samplePrompts[${i}]`, MAX_TEXT));
  if (s.heldout !== undefined) settings.heldout = shape.string(s.heldout, 'summary.settings.heldout', MAX_NAME);
  if (s.name !== undefined) settings.name = shape.string(s.name, 'summary.settings.name', MAX_NAME);
  return settings;
}

function readSelection(shape: JsonShape, value: unknown): Selection {
  const layers = shape.array(shape.object(value, 'summary.selection').layers, 'summary.selection.layers', MAX_LAYERS);
  return {
    layers: layers.map((entry, i) => {
      const at = `summary.selection.layers[${i}]`;
      const l = shape.object(entry, at);
      const units = (key: keyof LayerSelection) =>
        shape.array(l[key], `${at}.${key}`, MAX_UNITS).map((u, j) => shape.int(u, `${at}.${key}[${j}]`));
      const layer: LayerSelection = { heads: units('heads'), channels: units('channels') };
      if (l.vHeads !== undefined) layer.vHeads = units('vHeads');
      if (l.upChannels !== undefined) layer.upChannels = units('upChannels');
      return layer;
    }),
  };
}

function readStep(shape: JsonShape, value: unknown, at: string): StepPoint {
  const p = shape.object(value, at);
  const n = (key: keyof StepPoint) => shape.number(p[key], `${at}.${key}`);
  return {
    step: shape.int(p.step, `${at}.step`),
    steps: shape.int(p.steps, `${at}.steps`, 1),
    loss: n('loss'),
    lr: n('lr'),
    gradNorm: n('gradNorm'),
    tokensPerSec: n('tokensPerSec'),
    stepMs: n('stepMs'),
    elapsedMs: n('elapsedMs'),
    etaMs: n('etaMs'),
    bytesInUse: n('bytesInUse'),
    bytesAllocated: shape.nullable(p.bytesAllocated, () => n('bytesAllocated')),
    numTensors: shape.int(p.numTensors, `${at}.numTensors`),
    peakBytes: shape.nullable(p.peakBytes, () => n('peakBytes')),
  };
}

function readEval(shape: JsonShape, value: unknown, at: string): EvalPoint {
  const p = shape.object(value, at);
  const n = (key: 'evalLoss' | 'heldoutLoss' | 'forgetting') =>
    shape.nullable(p[key], (v) => shape.number(v, `${at}.${key}`));
  const point: EvalPoint = {
    step: shape.int(p.step, `${at}.step`),
    evalLoss: n('evalLoss'),
    heldoutLoss: n('heldoutLoss'),
    forgetting: n('forgetting'),
  };
  if (p.exactMatch !== undefined)
    point.exactMatch = shape.nullable(p.exactMatch, (v) => {
      const m = shape.object(v, `${at}.exactMatch`);
      return {
        correct: shape.int(m.correct, `${at}.exactMatch.correct`),
        total: shape.int(m.total, `${at}.exactMatch.total`),
      };
    });
  return point;
}

function readSampleRound(shape: JsonShape, value: unknown, at: string): SampleRound {
  const r = shape.object(value, at);
  return {
    step: shape.int(r.step, `${at}.step`),
    samples: shape.array(r.samples, `${at}.samples`, MAX_PROMPTS).map((entry, i): SampleGeneration => {
      const g = shape.object(entry, `${at}.samples[${i}]`);
      return {
        prompt: shape.string(g.prompt, `${at}.samples[${i}].prompt`, MAX_TEXT),
        text: shape.string(g.text, `${at}.samples[${i}].text`, MAX_TEXT),
      };
    }),
  };
}
