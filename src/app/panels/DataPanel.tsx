/** Training data: a built-in dataset or the person's own file, previewed token by token. */
import type { DataSummary, PreviewRow } from '../../../workers/api';
import { loadBuiltinData, loadDataFile } from '../actions/data';
import { Blocker } from '../components/Blocker';
import { FileDrop } from '../components/FileDrop';
import { NumberField } from '../components/fields';
import { formatCount } from '../format';
import { useStudio } from '../store';
import { PanelIntro } from './PanelIntro';

export function DataPanel() {
  const data = useStudio((s) => s.data);
  const datasets = useStudio((s) => s.builtinDatasets);
  const current = useStudio((s) => s.settings.dataset);
  const modelReady = useStudio((s) => s.model.status === 'ready');
  const busy = data.status === 'busy';
  return (
    <>
      <PanelIntro>
        Pick training data: a bundled dataset, or your own .txt or .jsonl file (plain text, instruction/output,
        prompt/completion, chat messages or pre-tokenized ids). Instruction rows train on the answer tokens only.
      </PanelIntro>
      <div className="row">
        <form
          noValidate
          className="card"
          onSubmit={(e) => {
            e.preventDefault();
            void loadBuiltinData(String(new FormData(e.currentTarget).get('dataset')));
          }}
        >
          <h3>Built-in dataset</h3>
          <label className="field">
            <span className="field-label">Dataset</span>
            <select name="dataset" defaultValue={current} key={`${datasets.length}-${current}`}>
              {datasets.map((d) => (
                <option key={d.name} value={d.name} title={d.description}>
                  {d.name}
                </option>
              ))}
            </select>
          </label>
          <NumberField
            field="validationFraction"
            label="Validation fraction"
            step={0.05}
            hint="Share of the rows (or of a text file's end) held out to measure validation loss; applies when data is loaded."
          />
          <button
            type="submit"
            disabled={!modelReady || busy}
            aria-describedby={modelReady ? undefined : 'data-needs-model'}
          >
            Load dataset
          </button>
          {!modelReady && (
            <Blocker id="data-needs-model" panel="model" action="Open Model">
              Needs a loaded model: its tokenizer turns the text into tokens.
            </Blocker>
          )}
        </form>
        <div className="card">
          <h3>Your file</h3>
          <FileDrop
            label="Choose a .txt or .jsonl file…"
            accept=".txt,.jsonl,.json"
            testId="data-drop"
            onFiles={(files) => modelReady && void loadDataFile(files[0])}
          >
            <p className="muted">Needs a loaded model: its tokenizer turns the text into tokens.</p>
          </FileDrop>
        </div>
      </div>
      {data.status === 'idle' && !modelReady && (
        <p role="status" className="task-status" data-testid="data-status" data-state="idle">
          Waiting for the model: the dataset is tokenized again with its tokenizer once it has loaded.
        </p>
      )}
      {data.status === 'busy' && (
        <p role="status" className="task-status" data-testid="data-status" data-state="busy">
          Reading and tokenizing…
        </p>
      )}
      {data.status === 'failed' && (
        <p role="alert" className="task-status task-error" data-testid="data-status" data-state="failed">
          {data.message}
        </p>
      )}
      {data.status === 'ready' && <DataDetails summary={data.value} />}
    </>
  );
}

function DataDetails({ summary }: { summary: DataSummary }) {
  const c = summary.counts;
  return (
    <div data-testid="data-status" data-state="ready">
      <p role="status" className="task-status">
        {summary.name}: {formatCount(c.examples)} {summary.packed ? 'windows' : 'examples'} (
        {formatCount(c.trainExamples)} train, {formatCount(c.validationExamples)} validation), {formatCount(c.tokens)}{' '}
        tokens of which {formatCount(c.targetTokens)} count for the loss
        {c.brokenLines > 0 ? `; ${c.brokenLines} broken line${c.brokenLines === 1 ? '' : 's'} skipped` : ''}.
      </p>
      {summary.errors.length > 0 && (
        <div className="card card-warning">
          <h3>Broken lines</h3>
          <ul data-testid="data-errors">
            {summary.errors.map((e) => (
              <li key={e.line} data-line={e.line}>
                {e.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      <h3>Preview</h3>
      <p className="muted">
        <span className="token token-target">Highlighted</span> tokens count for the loss; hover a token for its id.
      </p>
      <ol className="preview" data-testid="data-preview">
        {summary.preview.map((row, i) => (
          <PreviewLine key={i} row={row} packed={summary.packed} />
        ))}
      </ol>
    </div>
  );
}

function PreviewLine({ row, packed }: { row: PreviewRow; packed: boolean }) {
  const targets = row.tokens.filter((t) => t.target).length;
  return (
    <li>
      <span className="preview-meta">
        {packed ? 'window' : `line ${row.line}`} · {row.totalTokens} tokens · {targets} of those shown count for the
        loss
      </span>
      <span className="tokens">
        {row.tokens.map((t, j) => (
          <span
            key={j}
            className={t.target ? 'token token-target' : 'token'}
            title={`id ${t.id}${t.target ? ', counts for the loss' : ''}`}
            data-target={t.target}
          >
            {t.text.replace(/\n/g, '⏎')}
          </span>
        ))}
        {row.totalTokens > row.tokens.length && <span className="muted"> …</span>}
      </span>
    </li>
  );
}
