/** Adapters: download, import, fuse, switch, and a playground comparing base and adapter output. */
import { useState } from 'react';
import type { AdapterSummary, GenerateOutput } from '../../../workers/api';
import {
  deleteAdapter,
  downloadAdapter,
  downloadFusedModel,
  fuseAdapters,
  generate,
  importAdapterFiles,
  switchAdapter,
} from '../actions/adapters';
import { Blocker } from '../components/Blocker';
import { FileDrop } from '../components/FileDrop';
import { errorMessage } from '../errorMessage';
import { formatCount } from '../format';
import { useStudio } from '../store';
import { PanelIntro } from './PanelIntro';

export function AdaptersPanel() {
  const adapters = useStudio((s) => s.adapters);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const act = (what: Promise<unknown>, done?: string) => {
    setMessage(null);
    what.then(
      () => done && setMessage({ text: done, error: false }),
      (e: unknown) => setMessage({ text: errorMessage(e), error: true }),
    );
  };
  return (
    <>
      <PanelIntro>
        Download what training produced as an S²FT adapter (.safetensors) or a PEFT LoRA (.zip), load adapters back
        (yours, or a LoRA made with PEFT, Unsloth or LLaMA-Factory), switch between them, fuse several with weights, and
        try them in the playground. Adapters stay in this browser until you delete them.
      </PanelIntro>
      <div className="row">
        <FileDrop
          label="Import adapter…"
          accept=".safetensors,.zip,.json"
          multiple
          testId="adapter-drop"
          onFiles={(files) =>
            act(
              importAdapterFiles(files).then((a) =>
                setMessage({ text: `Imported ${a.name}${a.message ? `. ${a.message}` : '.'}`, error: false }),
              ),
            )
          }
        >
          <p className="muted">
            An S²FT adapter (.safetensors), a PEFT LoRA zip, or a PEFT folder&apos;s adapter_config.json and
            adapter_model.safetensors picked together.
          </p>
        </FileDrop>
      </div>
      {message && (
        <p
          role={message.error ? 'alert' : 'status'}
          data-testid="adapter-message"
          className={message.error ? 'task-error' : 'task-status'}
        >
          {message.text}
        </p>
      )}
      {adapters.length === 0 ? (
        <Blocker testId="adapters-empty" panel="train" action="Open Train">
          No adapters yet: train with S²FT or LoRA, or import a file.
        </Blocker>
      ) : (
        <AdapterTable adapters={adapters} act={act} />
      )}
      <Playground />
    </>
  );
}

function AdapterTable({
  adapters,
  act,
}: {
  adapters: AdapterSummary[];
  act: (p: Promise<unknown>, done?: string) => void;
}) {
  const active = useStudio((s) => s.activeAdapter);
  const [weights, setWeights] = useState<Record<string, number>>({});
  const fusable = adapters.filter((a) => a.fits);
  const chosen = fusable.filter((a) => (weights[a.id] ?? 0) !== 0);
  return (
    <>
      <table className="compare" data-testid="adapter-table">
        <caption className="visually-hidden">Adapters</caption>
        <thead>
          <tr>
            <th scope="col">Adapter</th>
            <th scope="col">Kind</th>
            <th scope="col">Base model</th>
            <th scope="col">Parameters</th>
            <th scope="col">Fuse weight</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {adapters.map((a) => (
            <tr key={a.id} data-adapter={a.name} data-active={a.id === active}>
              <th scope="row">
                {a.name}
                {a.id === active ? ' (in use)' : ''}
                <div className="muted">{a.origin}</div>
              </th>
              <td>{a.kind}</td>
              <td>
                {a.baseModel.name}
                {a.fits ? '' : <span className="task-error"> (does not fit: {a.message})</span>}
              </td>
              <td>
                {formatCount(a.params)} in {a.blocks} blocks
              </td>
              <td>
                {a.fits && (
                  <input
                    type="number"
                    step={0.1}
                    aria-label={`Fuse weight for ${a.name}`}
                    value={weights[a.id] ?? 0}
                    onChange={(e) => setWeights({ ...weights, [a.id]: Number(e.target.value) || 0 })}
                  />
                )}
              </td>
              <td>
                <div className="actions">
                  <button
                    type="button"
                    disabled={!a.fits || a.id === active}
                    onClick={() => act(switchAdapter(a.id), `Now generating with ${a.name}.`)}
                  >
                    Use
                  </button>
                  {a.kind !== 'lora' && (
                    <button
                      type="button"
                      onClick={() => act(downloadAdapter('s2ft', a.id))}
                      aria-label={`Download ${a.name} as S²FT safetensors`}
                    >
                      S²FT file
                    </button>
                  )}
                  <button
                    type="button"
                    onClick={() => act(downloadAdapter('peft-zip', a.id))}
                    aria-label={`Download ${a.name} as PEFT LoRA zip`}
                  >
                    PEFT zip
                  </button>
                  <button
                    type="button"
                    onClick={() => act(deleteAdapter(a.id), `Deleted ${a.name}.`)}
                    aria-label={`Delete ${a.name}`}
                  >
                    Delete
                  </button>
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">
        Give adapters a fuse weight, then fuse them into a new adapter, or download the base model with them fused (a
        HuggingFace folder, zipped, in the base&apos;s dtype).
      </p>
      <div className="row">
        <button
          type="button"
          disabled={active === 'base'}
          onClick={() => act(switchAdapter('base'), 'Now generating with the base model.')}
        >
          Use base model
        </button>
        <button
          type="button"
          disabled={chosen.length === 0}
          aria-describedby={chosen.length === 0 ? 'fuse-needs-weight' : undefined}
          onClick={() =>
            act(
              fuseAdapters(
                chosen.map((a) => a.id),
                chosen.map((a) => weights[a.id]),
              ),
              'Fused.',
            )
          }
        >
          Fuse {chosen.length || ''} with their weights
        </button>
        <button
          type="button"
          disabled={chosen.length === 0}
          aria-describedby={chosen.length === 0 ? 'fuse-needs-weight' : undefined}
          onClick={() =>
            act(
              downloadFusedModel(
                chosen.map((a) => a.id),
                chosen.map((a) => weights[a.id]),
              ),
            )
          }
        >
          Download the fused model
        </button>
      </div>
      {chosen.length === 0 && (
        <Blocker id="fuse-needs-weight">
          Fusing needs a fuse weight other than 0 on at least one adapter that fits this model.
        </Blocker>
      )}
    </>
  );
}

function Playground() {
  const active = useStudio((s) => s.activeAdapter);
  const adapters = useStudio((s) => s.adapters);
  const ready = useStudio((s) => s.model.status === 'ready');
  const [prompt, setPrompt] = useState('');
  const [maxNewTokens, setMax] = useState(24);
  const [temperature, setTemperature] = useState(0);
  const [outputs, setOutputs] = useState<{
    base: GenerateOutput;
    adapter: GenerateOutput | null;
    /** The adapter the output was generated with (the one in use may change afterwards). */
    adapterName: string | undefined;
  } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const name = adapters.find((a) => a.id === active)?.name;
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      const options = { maxNewTokens, temperature, seed: 0 };
      const base = await generate(prompt, { ...options, adapters: 'base' });
      const adapter = active === 'base' ? null : await generate(prompt, { ...options, adapters: active });
      setOutputs({ base, adapter, adapterName: name });
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      noValidate
      className="card playground"
      aria-label="Playground"
      onSubmit={(e) => {
        e.preventDefault();
        void run();
      }}
    >
      <h3>Playground</h3>
      <label className="field field-wide">
        <span className="field-label">Prompt</span>
        <textarea value={prompt} rows={3} onChange={(e) => setPrompt(e.target.value)} />
      </label>
      <div className="row">
        <label className="field">
          <span className="field-label">New tokens</span>
          <input
            type="number"
            min={1}
            max={512}
            value={maxNewTokens}
            onChange={(e) => setMax(Math.max(1, Math.min(512, Math.round(Number(e.target.value)) || 1)))}
          />
        </label>
        <label className="field" title="0 picks the most likely token every time (greedy).">
          <span className="field-label">Temperature</span>
          <input
            type="number"
            min={0}
            max={2}
            step={0.1}
            value={temperature}
            onChange={(e) => setTemperature(Math.max(0, Math.min(2, Number(e.target.value) || 0)))}
          />
        </label>
        <button
          type="submit"
          disabled={!ready || busy || prompt === ''}
          aria-describedby={ready && prompt !== '' ? undefined : 'generate-blocker'}
        >
          Generate
        </button>
      </div>
      {!ready ? (
        <Blocker id="generate-blocker" panel="model" action="Open Model">
          Generating needs a loaded model.
        </Blocker>
      ) : (
        prompt === '' && <Blocker id="generate-blocker">Write a prompt to generate.</Blocker>
      )}
      {error && (
        <p role="alert" className="task-error">
          {error}
        </p>
      )}
      {outputs && (
        <div className="row outputs">
          <div className="card">
            <h4>Base model</h4>
            <p className="sample" data-testid="output-base">
              {outputs.base.text}
            </p>
          </div>
          {outputs.adapter && (
            <div className="card">
              <h4>With {outputs.adapterName}</h4>
              <p className="sample" data-testid="output-adapter" data-adapter={outputs.adapterName}>
                {outputs.adapter.text}
              </p>
            </div>
          )}
        </div>
      )}
    </form>
  );
}
