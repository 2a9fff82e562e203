/** The base model: the embedded default or a HF checkpoint from disk, and what it is. */
import type { ModelSummary } from '../../../workers/api';
import { builtinSource, defaultModel, FALLBACK_MODEL } from '../actions/model';
import { openModel } from '../actions/session';
import { FileDrop } from '../components/FileDrop';
import { MemoryFit } from '../components/MemoryFit';
import { memoryPlan, type MemoryPlan } from '../memoryPlan';
import { formatBytes, formatCount } from '../format';
import { useStudio } from '../store';
import { PanelIntro } from './PanelIntro';

export function ModelPanel() {
  const model = useStudio((s) => s.model);
  const models = useStudio((s) => s.builtinModels);
  const ready = useStudio((s) => s.worker !== null && s.backend.status === 'ready');
  const choices = models.length ? models : [FALLBACK_MODEL];
  const busy = model.status === 'busy';
  return (
    <>
      <PanelIntro>
        Pick the base model: the embedded default, or a HuggingFace checkpoint folder from your own disk (config.json,
        model.safetensors, tokenizer.json). Files are read locally and never uploaded.
      </PanelIntro>
      <div className="row">
        <form
          noValidate
          className="card"
          onSubmit={(e) => {
            e.preventDefault();
            const name = new FormData(e.currentTarget).get('builtin');
            const entry = choices.find((m) => m.name === name) ?? defaultModel();
            void openModel(builtinSource(entry));
          }}
        >
          <h3>Embedded model</h3>
          <label className="field">
            <span className="field-label">Model</span>
            <select name="builtin" defaultValue={defaultModel().name}>
              {choices.map((m) => (
                <option key={m.name} value={m.name}>
                  {m.name}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" disabled={!ready || busy}>
            Load embedded model
          </button>
        </form>
        <div className="card">
          <h3>Checkpoint from disk</h3>
          <FileDrop
            label="Choose files…"
            multiple
            folder
            testId="model-drop"
            onFiles={(files) => void openModel({ kind: 'files', files })}
          >
            <p className="muted">
              A HuggingFace LLaMA-family folder: config.json, model.safetensors (or shards with their index),
              tokenizer.json.
            </p>
          </FileDrop>
        </div>
      </div>
      <ModelStatus />
      {model.status === 'ready' && <ModelDetails summary={model.value} />}
    </>
  );
}

function ModelStatus() {
  const model = useStudio((s) => s.model);
  if (model.status === 'busy') {
    const p = model.progress;
    return (
      <div role="status" data-testid="model-status" data-state="busy" className="task-status">
        <progress max={p?.totalBytes || 1} value={p?.loadedBytes ?? 0} aria-label="Model load progress" />{' '}
        {p ? `${p.phase}: ${p.item} (${formatBytes(p.loadedBytes)} of ${formatBytes(p.totalBytes)})` : 'Loading model…'}
      </div>
    );
  }
  if (model.status === 'failed')
    return (
      <p role="alert" className="task-status task-error" data-testid="model-status" data-state="failed">
        Could not load the model: {model.message}
      </p>
    );
  if (model.status === 'ready')
    return (
      <p role="status" className="task-status" data-testid="model-status" data-state="ready">
        Loaded {model.value.name} in {(model.value.loadMs / 1000).toFixed(1)} s.
      </p>
    );
  return (
    <p className="task-status" data-testid="model-status" data-state="idle">
      No model loaded yet.
    </p>
  );
}

function ModelDetails({ summary }: { summary: ModelSummary }) {
  const c = summary.config;
  const rows: [string, string][] = [
    ['Architecture', `${c.modelType}, ${c.numLayers} layers`],
    ['Hidden size', String(c.hiddenSize)],
    [
      'Attention',
      `${c.numHeads} heads${c.numKvHeads !== c.numHeads ? ` (${c.numKvHeads} key/value heads)` : ''} of ${c.headDim}`,
    ],
    ['Feed-forward channels', String(c.intermediateSize)],
    ['Vocabulary', String(c.vocabSize)],
    ['Context', `${c.maxPositionEmbeddings} tokens`],
    ['Tied embeddings', c.tieWordEmbeddings ? 'yes' : 'no'],
    ['Parameters', formatCount(summary.paramCount)],
    ['Weights (float32)', formatBytes(summary.fp32Bytes)],
    ['Tokenizer', summary.hasTokenizer ? `yes${summary.hasChatTemplate ? ', with chat template' : ''}` : 'none'],
    ['Fingerprint', summary.fingerprint],
  ];
  const settings = useStudio((s) => s.settings);
  const plan = memoryPlan(summary, settings);
  return (
    <div className="row">
      <table className="facts card" data-testid="model-summary" aria-label="Model summary">
        <tbody>
          {rows.map(([k, v]) => (
            <tr key={k}>
              <th scope="row">{k}</th>
              <td>{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="card">
        <h3>Memory to fine-tune</h3>
        <p className="muted" data-testid="memory-setting">
          Peak estimate for one step at batch {settings.batchSize} × {settings.seqLen} tokens (Train panel): weights,
          trainable parameters with their optimizer state and gradients, and activations.
        </p>
        <MemoryBars estimate={plan.estimate} />
        <MemoryFit plan={plan} />
        {summary.warnings.map((w) => (
          <p key={w} className="warning">
            {w}
          </p>
        ))}
      </div>
    </div>
  );
}

function MemoryBars({ estimate }: { estimate: MemoryPlan['estimate'] }) {
  const max = Math.max(estimate.s2ft, estimate.lora, estimate.full);
  const items: [string, number][] = [
    ['S²FT', estimate.s2ft],
    ['LoRA', estimate.lora],
    ['Full fine-tuning', estimate.full],
  ];
  return (
    <dl className="bars" data-testid="memory-estimate">
      {items.map(([name, bytes]) => (
        <div key={name} className="bar-row">
          <dt>{name}</dt>
          <dd>
            <span className="bar-track">
              <span className="bar" style={{ width: `${(100 * bytes) / max}%` }} />
            </span>
            {formatBytes(bytes)}
          </dd>
        </div>
      ))}
    </dl>
  );
}
