/**
 * Divergence guard: a NaN or infinite loss or gradient norm stops training before the update is
 * applied, so the parameters stay those of the last good step, and the user is told why and what
 * to try instead.
 */
import { UserError } from '../errors';

/** Throws UserError('training-diverged') unless loss and gradient norm are finite. `step` is 1-based. */
export function checkFinite(step: number, loss: number, gradNorm: number, lr: number): void {
  if (Number.isFinite(loss) && Number.isFinite(gradNorm)) return;
  const what = !Number.isFinite(loss) ? `the loss is ${loss}` : `the gradient norm is ${gradNorm}`;
  const kept = step > 1 ? `those after step ${step - 1}` : 'the initial ones';
  throw new UserError(
    'training-diverged',
    `training diverged at step ${step}: ${what}. The update was not applied; the parameters are ${kept}. ` +
      `Try a lower learning rate (it was ${lr}, e.g. ${lr / 10}), gradient clipping at 1.0 or a longer warm-up.`,
  );
}
