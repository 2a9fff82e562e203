/**
 * Says, before training, when the chosen model, method, batch and length will not fit this
 * device (src/app/memoryPlan.ts), and offers the largest batch × length that does.
 */
import type { MemoryPlan } from '../memoryPlan';
import { useStudio } from '../store';

export function MemoryFit({ plan }: { plan: MemoryPlan }) {
  const updateSettings = useStudio((s) => s.updateSettings);
  if (!plan.problem) return null;
  const { suggestion } = plan;
  return (
    <div role="alert" className="warning" data-testid="memory-fit">
      <p>
        {plan.problem}{' '}
        {suggestion
          ? `The largest that fits is batch ${suggestion.batchSize} × ${suggestion.seqLen} tokens.`
          : 'Not even batch 1 × 1 fits: choose a smaller model.'}
      </p>
      {suggestion && (
        <button type="button" onClick={() => updateSettings(suggestion)}>
          Use batch {suggestion.batchSize} × {suggestion.seqLen}
        </button>
      )}
    </div>
  );
}
