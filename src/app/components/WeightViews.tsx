/**
 * One layer's weights before and after S²FT's co-permutation (paper §3.1): the selected heads or
 * channels move to the front, so the trainable units form one dense block (outlined). Hovering
 * a cell maps its original unit to its permuted position and back.
 */
import { useEffect, useState } from 'react';
import type { ViewModule, WeightView } from '../../../workers/api';
import { errorMessage } from '../errorMessage';
import { requireWorker } from '../store';
import { robustLimit } from './colour';
import { Heatmap, type CellRect } from './Heatmap';

export type ModuleGroup = 'attention' | 'mlp';

export const GROUP_MODULES: Record<ModuleGroup, ViewModule[]> = {
  attention: ['o_proj', 'q_proj', 'k_proj', 'v_proj'],
  mlp: ['down_proj', 'gate_proj', 'up_proj'],
};

interface ViewPair {
  module: ViewModule;
  before: WeightView;
  after: WeightView;
}

/** The outlined blocks of a view, in cell coordinates. */
function outlines(view: WeightView): CellRect[] {
  const perCell = view.unitAxis === 'columns' ? view.colsPerCell : view.rowsPerCell;
  return view.blocks.map(({ start, end }) => {
    const a = (start * view.unitSize) / perCell;
    const b = (end * view.unitSize) / perCell;
    const label = `trainable ${view.unit}s at ${end - start === 1 ? `position ${start}` : `positions ${start}–${end - 1}`}`;
    return view.unitAxis === 'columns'
      ? { col0: a, col1: b, row0: 0, row1: view.rows, label }
      : { col0: 0, col1: view.cols, row0: a, row1: b, label };
  });
}

/** Words for the cell under the pointer: which unit it belongs to, before and after permuting. */
function describer(view: WeightView, permutedOrder: number[]) {
  const positionOf = new Map(permutedOrder.map((unit, position) => [unit, position]));
  return (row: number, col: number) => {
    const index = view.unitAxis === 'columns' ? col * view.colsPerCell : row * view.rowsPerCell;
    const position = Math.floor(index / view.unitSize);
    const unit = view.order[position];
    const mapping =
      view.order === permutedOrder
        ? `permuted position ${position} ← original ${view.unit} ${unit}`
        : `original ${view.unit} ${unit} → permuted position ${positionOf.get(unit) ?? '?'}`;
    return `${view.module} row ${row * view.rowsPerCell}, column ${col * view.colsPerCell}: ${mapping}`;
  };
}

export function WeightViews({ layer, group, version }: { layer: number; group: ModuleGroup; version: unknown }) {
  const [pairs, setPairs] = useState<ViewPair[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    const worker = requireWorker();
    Promise.all(
      GROUP_MODULES[group].map(async (module) => {
        const [before, after] = await Promise.all([
          worker.weightView({ layer, module, permuted: false }),
          worker.weightView({ layer, module, permuted: true }),
        ]);
        return { module, before, after };
      }),
    ).then(
      (result) => live && (setPairs(result), setError(null)),
      (e: unknown) => live && setError(errorMessage(e)),
    );
    return () => {
      live = false;
    };
  }, [layer, group, version]);

  if (error)
    return (
      <p role="alert" className="task-error">
        Could not draw the weights: {error}
      </p>
    );
  if (!pairs)
    return (
      <p role="status" className="muted">
        Reading layer {layer}'s weights…
      </p>
    );
  return (
    <div className="weight-views" data-testid="weight-views">
      {pairs.map(({ module, before, after }) => {
        const scale = { kind: 'sequential', min: 0, max: robustLimit(before.values) } as const;
        const width = module === 'o_proj' || module === 'down_proj' ? 300 : 220;
        return (
          <div key={module} className="weight-pair">
            <Heatmap
              values={before.values}
              rows={before.rows}
              cols={before.cols}
              scale={scale}
              width={width}
              outlines={outlines(before)}
              label={`${module} layer ${layer}, original order (${before.shape[0]}×${before.shape[1]}, |W|)`}
              describe={describer(before, after.order)}
              testId={`view-${module}-original`}
            />
            <Heatmap
              values={after.values}
              rows={after.rows}
              cols={after.cols}
              scale={scale}
              width={width}
              outlines={outlines(after)}
              label={`${module} layer ${layer}, co-permuted: trainable block first`}
              describe={describer(after, after.order)}
              testId={`view-${module}-permuted`}
            />
            {after.note && <p className="muted note">{after.note}</p>}
          </div>
        );
      })}
    </div>
  );
}
