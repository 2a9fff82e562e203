/** Which heads and channels S²FT trains: the choice, its cost, and how the weights are permuted. */
import { useMemo, useState } from 'react';
import type { SelectionSummary } from '../../../workers/api';
import { downloadBytes } from '../actions/adapters';
import { applySelectionFile, runSelection } from '../actions/selection';
import { PICK_SIDES, STRATEGIES } from '../../core/s2ft/strategies';
import { Blocker } from '../components/Blocker';
import { CheckField, labelled, NumberField, SelectField } from '../components/fields';
import { BUDGET_KINDS } from '../settings';
import { UnitMap } from '../components/UnitMap';
import { WeightViews, type ModuleGroup } from '../components/WeightViews';
import { formatCount, formatPercent } from '../format';
import { selectionStart } from '../selectionStart';
import { useStudio } from '../store';
import { PanelIntro } from './PanelIntro';

const STRATEGY_OPTIONS = labelled(STRATEGIES, {
  random: 'Random',
  weight: 'Weight magnitude',
  activation: 'Activation magnitude',
  product: 'Weight × activation',
  gradient: 'Gradient magnitude',
});
const PICK_OPTIONS = labelled(PICK_SIDES, { large: 'Largest scores', small: 'Smallest scores' });
const BUDGET_OPTIONS = labelled(BUDGET_KINDS, { perLayer: 'Per layer', ratio: 'Ratio', loraRank: 'Match LoRA rank' });

export function SelectionPanel() {
  const selection = useStudio((s) => s.selection);
  const budget = useStudio((s) => s.settings.budget);
  const strategy = useStudio((s) => s.settings.strategy);
  const modelReady = useStudio((s) => s.model.status === 'ready');
  return (
    <>
      <PanelIntro>
        Choose which attention heads and feed-forward channels S²FT trains, by a strategy or from a selection file, and
        see the choice layer by layer. Only the selected columns of o_proj and down_proj (and, optionally, rows of
        v_proj and up_proj) are trained.
      </PanelIntro>
      <form
        noValidate
        className="card form-grid"
        aria-label="Selection settings"
        onSubmit={(e) => {
          e.preventDefault();
          void runSelection();
        }}
      >
        <SelectField
          field="strategy"
          label="Strategy"
          options={STRATEGY_OPTIONS}
          hint="How units are scored: at random, or by the size of their weights, activations on your data, both, or gradients."
        />
        <SelectField
          field="pick"
          label="Pick"
          disabled={strategy === 'random'}
          options={PICK_OPTIONS}
          hint="Train the highest- or lowest-scoring units (the paper finds small ones forget less)."
        />
        <SelectField
          field="budget"
          label="Budget"
          options={BUDGET_OPTIONS}
          hint="How many units: counts per layer, fractions of all units, or as many parameters as LoRA at a rank."
        />
        {budget === 'perLayer' && (
          <>
            <NumberField
              field="headsPerLayer"
              label="Heads per layer"
              hint="Attention heads trained in each layer (o_proj columns)."
            />
            <NumberField
              field="channelsPerLayer"
              label="Channels per layer"
              hint="Feed-forward channels trained in each layer (down_proj columns)."
            />
          </>
        )}
        {budget === 'ratio' && (
          <>
            <NumberField field="headRatio" label="Head ratio" step={0.01} hint="Fraction of all heads to train." />
            <NumberField
              field="channelRatio"
              label="Channel ratio"
              step={0.01}
              hint="Fraction of all channels to train."
            />
          </>
        )}
        {budget === 'loraRank' && (
          <NumberField
            field="matchRank"
            label="LoRA rank to match"
            hint="Train as many parameters as LoRA at this rank on q, k, v, up, down."
          />
        )}
        <fieldset className="modules">
          <legend>Modules</legend>
          <CheckField field="oProj" label="o_proj columns" hint="A selected head trains its columns of o_proj." />
          <CheckField
            field="downProj"
            label="down_proj columns"
            hint="A selected channel trains its column of down_proj."
          />
          <CheckField field="vProj" label="v_proj rows" hint="Also train the selected heads' rows of v_proj." />
          <CheckField field="upProj" label="up_proj rows" hint="Also train the selected channels' rows of up_proj." />
        </fieldset>
        <NumberField field="selectionSeed" label="Seed" hint="Seed of the random strategy." />
        <div className="form-actions">
          <button
            type="submit"
            disabled={!modelReady || selection.status === 'busy'}
            aria-describedby={modelReady ? undefined : 'selection-needs-model'}
          >
            Select units
          </button>
          <label className="file-input-label">
            Load selection file…{' '}
            <input
              type="file"
              accept=".json"
              onChange={(e) => {
                const file = e.target.files?.[0];
                e.target.value = '';
                if (file) void applySelectionFile(file);
              }}
            />
          </label>
        </div>
        {!modelReady && (
          <Blocker id="selection-needs-model" panel="model" action="Open Model">
            Needs a loaded model: units are scored on its weights.
          </Blocker>
        )}
      </form>
      {selection.status === 'busy' && (
        <p role="status" className="task-status" data-testid="selection-status" data-state="busy">
          Scoring and selecting…
        </p>
      )}
      {selection.status === 'failed' && (
        <p role="alert" className="task-status task-error" data-testid="selection-status" data-state="failed">
          {selection.message}
        </p>
      )}
      {selection.status === 'ready' && <SelectionDetails summary={selection.value} />}
    </>
  );
}

function SelectionDetails({ summary }: { summary: SelectionSummary }) {
  // Each new selection opens where its permutation shows (state adjusted while rendering, as React advises).
  const start = useMemo(() => selectionStart(summary.selection), [summary]);
  const [shownFor, setShownFor] = useState(summary);
  const [layer, setLayer] = useState(start.layer);
  const [group, setGroup] = useState<ModuleGroup>(start.group);
  if (shownFor !== summary) {
    setShownFor(summary);
    setLayer(start.layer);
    setGroup(start.group);
  }
  const model = useStudio((s) => s.model);
  if (model.status !== 'ready') return null;
  const { config } = model.value;
  const heads = summary.selection.layers.map((l) => l.heads);
  const channels = summary.selection.layers.map((l) => l.channels);
  const p = summary.trainableParams;
  const bars: [string, number][] = [
    ['S²FT', p.s2ft],
    [`LoRA (rank ${p.loraRank})`, p.lora],
    ['Full fine-tuning', p.full],
  ];
  const channelCell = Math.max(1, Math.floor(640 / config.intermediateSize));
  return (
    <div data-testid="selection-status" data-state="ready">
      <p role="status" className="task-status">
        Selected {summary.counts.heads} head{summary.counts.heads === 1 ? '' : 's'} and {summary.counts.channels}{' '}
        channel{summary.counts.channels === 1 ? '' : 's'}{' '}
        {summary.counts.allocation === 'uniform' ? 'per layer' : 'in total'}: {formatCount(p.s2ft)} trainable
        parameters, {formatPercent(p.s2ft, p.full)} of the model.
      </p>
      <div className="row">
        <div>
          <dl className="bars card" data-testid="trainable-params">
            {bars.map(([name, n]) => (
              <div key={name} className="bar-row">
                <dt>{name}</dt>
                <dd>
                  <span className="bar-track">
                    <span
                      className="bar"
                      style={{ width: `${Math.max(0.5, (100 * Math.log10(1 + n)) / Math.log10(1 + p.full))}%` }}
                    />
                  </span>
                  {formatCount(n)}
                </dd>
              </div>
            ))}
          </dl>
          {/* Outside the list: a <dl> holds only name/value groups. */}
          <p className="muted">Bars on a log scale.</p>
        </div>
        <button
          type="button"
          onClick={() => downloadBytes('selection.json', summary.selectionFile, 'application/json')}
        >
          Download selection.json
        </button>
      </div>
      <div className="row">
        <UnitMap
          testId="head-grid"
          label="Layers × heads"
          unitName="head"
          units={config.numHeads}
          scores={summary.scores?.heads ?? null}
          selected={heads}
          cellWidth={Math.max(10, Math.floor(320 / config.numHeads))}
          cellHeight={18}
          layer={layer}
          onLayer={setLayer}
        />
        <UnitMap
          testId="channel-strip"
          label="Layers × channels"
          unitName="channel"
          units={config.intermediateSize}
          scores={summary.scores?.channels ?? null}
          selected={channels}
          cellWidth={channelCell}
          cellHeight={18}
          layer={layer}
          onLayer={setLayer}
        />
      </div>
      <p className="legend muted">
        <span className="swatch swatch-selected" /> selected · darker blue = higher score · click a row (or use the
        arrow keys) to show its layer
      </p>
      <div className="row" role="group" aria-label="Weights shown">
        <label className="field">
          <span className="field-label">Layer</span>
          <select value={layer} onChange={(e) => setLayer(Number(e.target.value))}>
            {heads.map((_, l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span className="field-label">Weights</span>
          <select value={group} onChange={(e) => setGroup(e.target.value as ModuleGroup)}>
            <option value="attention">Attention: o_proj with q, k, v</option>
            <option value="mlp">Feed-forward: down_proj with gate, up</option>
          </select>
        </label>
      </div>
      <WeightViews layer={layer} group={group} version={summary} />
    </div>
  );
}
