/**
 * Labelled form controls bound to one settings field each. The hint is the tooltip (title) and
 * also the control's accessible description, so it reaches keyboard and screen-reader users.
 */
import { useId, type ReactNode } from 'react';
import type { StudioSettings } from '../settings';
import { SETTING_RULES } from '../settings';
import { useStudio } from '../store';

/** Select options in the order of a core option list, each with its label (a label map names every option). */
export function labelled<T extends string>(
  values: readonly T[],
  labels: Record<T, string>,
): { value: T; label: string }[] {
  return values.map((value) => ({ value, label: labels[value] }));
}

type KeysOf<V> = { [K in keyof StudioSettings]: StudioSettings[K] extends V ? K : never }[keyof StudioSettings];

function Hint({ id, children }: { id: string; children: ReactNode }) {
  return (
    <span id={id} className="field-hint">
      {children}
    </span>
  );
}

export function NumberField({
  field,
  label,
  hint,
  step,
  disabled,
}: {
  field: KeysOf<number>;
  label: string;
  hint: string;
  step?: number;
  disabled?: boolean;
}) {
  const value = useStudio((s) => s.settings[field]);
  const update = useStudio((s) => s.updateSettings);
  const id = useId();
  const rule = SETTING_RULES[field];
  const bounds = rule.kind === 'int' || rule.kind === 'number' ? rule : { min: undefined, max: undefined };
  return (
    <div className="field" title={hint}>
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      <input
        id={id}
        type="number"
        value={value}
        min={bounds.min}
        max={bounds.max}
        step={step ?? (rule.kind === 'int' ? 1 : 'any')}
        disabled={disabled}
        aria-describedby={`${id}-hint`}
        onChange={(e) => {
          const n = Number(e.target.value);
          if (e.target.value === '' || !Number.isFinite(n)) return;
          const clamped = Math.min(bounds.max ?? n, Math.max(bounds.min ?? n, rule.kind === 'int' ? Math.round(n) : n));
          update({ [field]: clamped } as Partial<StudioSettings>);
        }}
      />
      <Hint id={`${id}-hint`}>{hint}</Hint>
    </div>
  );
}

export function SelectField<K extends KeysOf<string>>({
  field,
  label,
  hint,
  options,
  disabled,
}: {
  field: K;
  label: string;
  hint: string;
  options: readonly { value: StudioSettings[K]; label: string }[];
  disabled?: boolean;
}) {
  const value = useStudio((s) => s.settings[field]);
  const update = useStudio((s) => s.updateSettings);
  const id = useId();
  return (
    <div className="field" title={hint}>
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      <select
        id={id}
        value={value}
        disabled={disabled}
        aria-describedby={`${id}-hint`}
        onChange={(e) => update({ [field]: e.target.value } as Partial<StudioSettings>)}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      <Hint id={`${id}-hint`}>{hint}</Hint>
    </div>
  );
}

export function CheckField({
  field,
  label,
  hint,
  disabled,
}: {
  field: KeysOf<boolean>;
  label: string;
  hint: string;
  disabled?: boolean;
}) {
  const value = useStudio((s) => s.settings[field]);
  const update = useStudio((s) => s.updateSettings);
  const id = useId();
  return (
    <div className="field field-check" title={hint}>
      <input
        id={id}
        type="checkbox"
        checked={value}
        disabled={disabled}
        aria-describedby={`${id}-hint`}
        onChange={(e) => update({ [field]: e.target.checked } as Partial<StudioSettings>)}
      />
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      <Hint id={`${id}-hint`}>{hint}</Hint>
    </div>
  );
}

/** A line saying what a worker request is doing or why it failed; role=alert for failures. */
export function TaskStatus({
  state,
  busy,
  testId,
}: {
  state: { status: string; message?: string };
  busy: string;
  testId: string;
}) {
  if (state.status === 'busy')
    return (
      <p className="task-status" role="status" data-testid={testId} data-state="busy">
        {busy}
      </p>
    );
  if (state.status === 'failed')
    return (
      <p className="task-status task-error" role="alert" data-testid={testId} data-state="failed">
        {state.message}
      </p>
    );
  return <p className="task-status" data-testid={testId} data-state={state.status} hidden />;
}
