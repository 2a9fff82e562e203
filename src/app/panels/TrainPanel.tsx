/** Fine-tuning: method and hyperparameters, run controls, live charts, forgetting and samples. */
import { useDeferredValue, useMemo, useState } from 'react';
import type { TrainPhase } from '../../../workers/api';
import { downloadRecipe, pauseTraining, resumeTraining, startTraining, stopTraining } from '../actions/train';
import { forgettingRows, lossRows, stepRows } from '../chartData';
import { METHOD_NAMES } from '../../core/train/method';
import { OPTIMIZER_NAMES } from '../../core/train/optimizerSettings';
import { labelled, NumberField, SelectField } from '../components/fields';
import { Blocker } from '../components/Blocker';
import { MemoryFit } from '../components/MemoryFit';
import type { Series } from '../components/chartTypes';
import { MetricChart } from '../components/MetricChart';
import { errorMessage } from '../errorMessage';
import { memoryPlan } from '../memoryPlan';
import { formatDuration } from '../format';
import { useStudio, type LiveRun } from '../store';
import { BeforeAfter } from './BeforeAfter';
import { PanelIntro } from './PanelIntro';

const METHODS = labelled(METHOD_NAMES, {
  s2ft: 'S²FT (selected heads and channels)',
  lora: 'LoRA',
  full: 'Full fine-tuning',
});
const OPTIMIZERS = labelled(OPTIMIZER_NAMES, { adamw: 'AdamW', sgd: 'SGD' });

const ACTIVE: readonly TrainPhase[] = ['loading', 'compiling', 'training', 'paused'];

export function TrainPanel() {
  const live = useStudio((s) => s.live);
  const method = useStudio((s) => s.settings.method);
  const canStart = useStudio(
    (s) =>
      s.model.status === 'ready' &&
      s.data.status === 'ready' &&
      (s.settings.method !== 's2ft' || s.selection.status === 'ready'),
  );
  const running = live !== null && ACTIVE.includes(live.phase);
  const [scaleOutMessage, setScaleOutMessage] = useState<Message>(null);
  return (
    <>
      <PanelIntro>
        Fine-tune with S²FT, LoRA or full fine-tuning in the training worker, and watch loss, learning rate, throughput
        and memory as it runs. Hover a setting for what it does.
      </PanelIntro>
      <form
        noValidate
        className="card form-grid"
        aria-label="Training settings"
        onSubmit={(e) => {
          e.preventDefault();
          void startTraining();
        }}
      >
        <SelectField
          field="method"
          label="Method"
          options={METHODS}
          disabled={running}
          hint="S²FT trains the selected units only; LoRA adds low-rank adapters; full fine-tuning trains every weight."
        />
        <NumberField field="steps" label="Training steps" disabled={running} hint="Optimizer updates in the run." />
        <NumberField
          field="lr"
          label="Learning rate"
          step={0.0001}
          disabled={running}
          hint="Peak learning rate after warm-up; decays linearly to zero."
        />
        <NumberField
          field="warmup"
          label="Warm-up steps"
          disabled={running}
          hint="Updates over which the learning rate rises from zero to its peak."
        />
        <NumberField field="batchSize" label="Batch size" disabled={running} hint="Sequences per update." />
        <NumberField
          field="seqLen"
          label="Sequence length"
          disabled={running}
          hint="Tokens per sequence (0: chosen from the data); longer rows are cut."
        />
        <SelectField
          field="optimizer"
          label="Optimizer"
          disabled={running}
          options={OPTIMIZERS}
          hint="AdamW (the paper's choice) or plain SGD."
        />
        <NumberField
          field="weightDecay"
          label="Weight decay"
          step={0.01}
          disabled={running}
          hint="Decoupled weight decay of AdamW."
        />
        <NumberField
          field="gradClip"
          label="Gradient clip"
          step={0.1}
          disabled={running}
          hint="Clip the global gradient norm to this value; 0 turns clipping off."
        />
        {method === 'lora' && (
          <NumberField
            field="loraRank"
            label="LoRA rank"
            disabled={running}
            hint="Rank r of LoRA's B·A on q, k, v, up, down (alpha = 2r)."
          />
        )}
        <NumberField
          field="evalEvery"
          label="Evaluate every"
          disabled={running}
          hint="Steps between validation-loss and forgetting measurements; 0 = only at the end."
        />
        <NumberField
          field="sampleEvery"
          label="Sample every"
          disabled={running}
          hint="Steps between sample generations from fixed prompts (step 0 included); 0 = never."
        />
        <NumberField
          field="sampleTokens"
          label="Sample length"
          disabled={running}
          hint="New tokens in each sample generation (greedy)."
        />
        <NumberField
          field="seed"
          label="Seed"
          disabled={running}
          hint="Seed for data order, initialisation and sampling."
        />
        <div className="form-actions">
          <button
            type="submit"
            disabled={!canStart || running}
            aria-describedby={!canStart && !running ? START_BLOCKER : undefined}
          >
            Start training
          </button>
          <RunControls live={live} />
          <ScaleOut enabled={canStart} onMessage={setScaleOutMessage} />
        </div>
        {!canStart && !running && <StartBlocker />}
        {!running && <TrainMemoryFit />}
      </form>
      {scaleOutMessage && (
        <p
          role={scaleOutMessage.error ? 'alert' : 'status'}
          data-testid="scale-out-message"
          className={scaleOutMessage.error ? 'task-error' : 'task-status'}
        >
          {scaleOutMessage.text}
        </p>
      )}
      {live && <LiveView live={live} />}
    </>
  );
}

const START_BLOCKER = 'start-blocker';
const BLOCKERS = {
  model: { what: 'a model', action: 'Open Model' },
  data: { what: 'training data', action: 'Open Data' },
  selection: { what: 'selected units for S²FT', action: 'Select units' },
} as const;

/** Why "Start training" is disabled, with the step that enables it. */
function StartBlocker() {
  // A string from the selector, so the store hands back the same value while nothing changes.
  const panel = useStudio((s) =>
    s.model.status !== 'ready' ? 'model' : s.data.status !== 'ready' ? 'data' : 'selection',
  );
  const busy = useStudio((s) => s.model.status === 'busy' || s.data.status === 'busy' || s.selection.status === 'busy');
  const { what, action } = BLOCKERS[panel];
  return (
    <Blocker id={START_BLOCKER} testId="start-blocker" panel={panel} action={action}>
      {busy ? `Preparing ${what}…` : `Start needs ${what}.`}
    </Blocker>
  );
}

function RunControls({ live }: { live: LiveRun | null }) {
  const phase = live?.phase;
  const active = phase !== undefined && ACTIVE.includes(phase);
  return (
    <>
      <button type="button" disabled={phase !== 'training'} onClick={() => void pauseTraining()}>
        Pause
      </button>
      <button type="button" disabled={phase !== 'paused'} onClick={() => void resumeTraining()}>
        Resume
      </button>
      <button type="button" disabled={!active} onClick={() => void stopTraining()}>
        Stop
      </button>
    </>
  );
}

const SCALE_OUT_HINT =
  'Download this run (model name, data, method with its selection or initial LoRA adapter, and the settings above) ' +
  'as a PyTorch folder: train.py runs it on one GPU with python, on many with torchrun --nproc_per_node N, and ' +
  'across machines with torchrun --nnodes; it writes what this studio imports (an adapter, or a full checkpoint).';

type Message = { text: string; error: boolean } | null;

/** The button's title is its tooltip and, as the name comes from its text, its accessible description. */
function ScaleOut({ enabled, onMessage }: { enabled: boolean; onMessage: (m: Message) => void }) {
  const [busy, setBusy] = useState(false);
  const scaleOut = () => {
    setBusy(true);
    onMessage(null);
    downloadRecipe()
      .then(
        (fileName) =>
          onMessage({
            text: `Downloaded ${fileName}: unzip it; its README.md has the torchrun commands.`,
            error: false,
          }),
        (e: unknown) => onMessage({ text: errorMessage(e), error: true }),
      )
      .finally(() => setBusy(false));
  };
  return (
    <button type="button" disabled={!enabled || busy} onClick={scaleOut} title={SCALE_OUT_HINT} data-testid="scale-out">
      Scale out (PyTorch recipe)
    </button>
  );
}

const PHASES: { phase: TrainPhase; label: string }[] = [
  { phase: 'loading', label: 'Loading' },
  { phase: 'compiling', label: 'Compiling kernels' },
  { phase: 'training', label: 'Training' },
];

// Series and formats are module constants so the memoised charts see unchanged props.
const LOSS_SERIES: Series[] = [
  { key: 'loss', name: 'train (raw)', colour: '#9db4cf', dashed: true },
  { key: 'smoothed', name: 'train (smoothed)', colour: '#1f3a5f' },
  { key: 'evalLoss', name: 'validation', colour: '#c2410c', dots: true },
];
const LR_SERIES: Series[] = [{ key: 'lr', name: 'learning rate', colour: '#1c7c45' }];
const GRAD_SERIES: Series[] = [{ key: 'gradNorm', name: 'global grad norm', colour: '#7c3aed' }];
const THROUGHPUT_SERIES: Series[] = [{ key: 'tokensPerSec', name: 'tokens/s', colour: '#0e7490' }];
const MEMORY_SERIES: Series[] = [
  { key: 'inUseMiB', name: 'in use by tensors', colour: '#1f3a5f' },
  { key: 'allocatedMiB', name: 'allocated by backend', colour: '#9a6700', dashed: true },
];
const HELDOUT_SERIES: Series[] = [{ key: 'heldout', name: 'held-out loss', colour: '#b42318', dots: true }];
const wholeNumber = (v: number) => v.toFixed(0);
const oneDecimal = (v: number) => v.toFixed(1);

function LiveView({ live }: { live: LiveRun }) {
  const last = live.steps.at(-1);
  // The charts draw a deferred copy: React renders them in interruptible slices after the
  // status line, so a burst of training events never blocks typing or clicking.
  const drawn = useDeferredValue(live);
  const losses = useMemo(() => lossRows(drawn.steps, drawn.evals), [drawn.steps, drawn.evals]);
  const rows = useMemo(() => stepRows(drawn.steps), [drawn.steps]);
  const forgetting = useMemo(() => forgettingRows(drawn.evals), [drawn.evals]);
  // A finished run has been through every phase; a failed one shows none as reached.
  const finished = live.phase === 'done' || live.phase === 'stopped' || live.phase === 'paused';
  const reached = finished ? PHASES.length : PHASES.findIndex((p) => p.phase === live.phase);
  const lastForgetting = drawn.evals.at(-1)?.forgetting ?? null;
  return (
    <section
      className="live"
      aria-label={`Run ${live.name}`}
      data-testid="train-run"
      data-phase={live.phase}
      data-steps={live.steps.length}
      data-first-loss={live.steps[0]?.loss}
      data-last-loss={last?.loss}
    >
      <h3>{live.name}</h3>
      <ol className="phases" aria-label="Phases">
        {PHASES.map((p, i) => (
          <li key={p.phase} className={p.phase === live.phase ? 'phase-current' : reached > i ? 'phase-done' : ''}>
            {p.label}
          </li>
        ))}
      </ol>
      <div role="status" className="task-status" data-testid="train-status">
        <progress max={last?.steps ?? 1} value={last?.step ?? 0} aria-label="Training progress" />{' '}
        {last
          ? `step ${last.step} of ${last.steps} · loss ${last.loss.toFixed(4)} · ETA ${formatDuration(last.etaMs)}`
          : ''}{' '}
        {live.phase !== 'error' && (
          <span>
            {live.phase}: {live.message}
          </span>
        )}
      </div>
      {live.error && (
        <p role="alert" className="task-error">
          {live.error.message}
        </p>
      )}
      <BeforeAfter live={drawn} />
      <div className="charts">
        <MetricChart testId="chart-loss" title="Loss" data={losses} allowLog series={LOSS_SERIES} />
        <MetricChart testId="chart-lr" title="Learning rate" data={rows} series={LR_SERIES} />
        <MetricChart testId="chart-grad" title="Gradient norm" data={rows} allowLog series={GRAD_SERIES} />
        <MetricChart
          testId="chart-throughput"
          title="Throughput"
          data={rows}
          format={wholeNumber}
          series={THROUGHPUT_SERIES}
        />
        <MetricChart
          testId="chart-memory"
          title="Memory (MiB)"
          data={rows}
          format={oneDecimal}
          series={MEMORY_SERIES}
        />
        <figure className="metric-chart forgetting" data-testid="forgetting">
          <figcaption>
            <span className="metric-title">Forgetting</span>
          </figcaption>
          <p className="muted">Loss on held-out pretraining text; rising means the model forgets what it knew.</p>
          <meter
            min={-0.5}
            max={1}
            low={0.05}
            high={0.2}
            optimum={0}
            value={lastForgetting ?? 0}
            aria-label="Forgetting: change in held-out loss"
          />{' '}
          {lastForgetting === null
            ? 'not measured yet'
            : `${lastForgetting >= 0 ? '+' : ''}${lastForgetting.toFixed(4)} nats`}
          <MetricChart title="Held-out loss" data={forgetting} width={400} height={140} series={HELDOUT_SERIES} />
        </figure>
      </div>
      <Samples live={drawn} />
    </section>
  );
}

function Samples({ live }: { live: LiveRun }) {
  if (live.samples.length === 0) return null;
  return (
    <div className="samples" data-testid="samples">
      <h3>Sample generations</h3>
      {[...live.samples].reverse().map((round) => (
        <div key={round.step} className="sample-round" data-step={round.step}>
          <h4>Step {round.step}</h4>
          {round.samples.map((s, i) => (
            <p key={i} className="sample">
              <span className="sample-prompt">{s.prompt}</span>
              <span className="sample-text">{s.text}</span>
            </p>
          ))}
        </div>
      ))}
    </div>
  );
}

/** The Model panel's fit check, repeated where batch and length are chosen. */
function TrainMemoryFit() {
  const model = useStudio((s) => s.model);
  const settings = useStudio((s) => s.settings);
  return model.status === 'ready' ? <MemoryFit plan={memoryPlan(model.value, settings)} /> : null;
}
