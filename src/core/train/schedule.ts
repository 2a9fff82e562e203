/**
 * Learning-rate schedules: a linear warm-up from 0 to the peak, then linear decay to 0, cosine
 * decay to 0, or constant. The values are those of HuggingFace's get_{linear,cosine,constant}_
 * schedule_with_warmup, so the exported PyTorch recipe trains with the same rates. `step` counts
 * updates from 0, so with no warm-up (the default) the first update uses exactly the peak rate:
 * a one-step run trains at exactly --lr whatever the schedule.
 *
 *   warm-up   (step < warmup):  peak · step / warmup
 *   linear    (after):          peak · (1 − p)
 *   cosine    (after):          peak · ½ (1 + cos(π p))
 *   constant  (after):          peak
 * where p = (step − warmup) / (total − warmup) ∈ [0, 1) is the progress through the decay phase.
 * As in HF, the first warm-up update has rate 0 (AdamW still accumulates its moments).
 */
export const SCHEDULE_KINDS = ['linear', 'cosine', 'constant'] as const;
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];

export interface ScheduleSettings {
  /** Peak learning rate (the --lr flag). */
  peak: number;
  /** Updates spent ramping up before the peak. */
  warmup: number;
  /** Total updates of the run (the decay reaches 0 after the last one). */
  total: number;
  kind: ScheduleKind;
}

/** Learning rate of update number `step` (0-based). */
export function learningRate(step: number, s: ScheduleSettings): number {
  if (step < s.warmup) return (s.peak * step) / s.warmup;
  if (s.kind === 'constant') return s.peak;
  const decaySteps = Math.max(1, s.total - s.warmup);
  const progress = Math.min(1, (step - s.warmup) / decaySteps);
  if (s.kind === 'linear') return s.peak * (1 - progress);
  return s.peak * 0.5 * (1 + Math.cos(Math.PI * progress));
}
