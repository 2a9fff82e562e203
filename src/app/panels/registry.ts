/** The studio's panels, in the order a fine-tuning session moves through them. */
import type { ComponentType } from 'react';
import { AdaptersPanel } from './AdaptersPanel';
import { ComparePanel } from './ComparePanel';
import { DataPanel } from './DataPanel';
import { ModelPanel } from './ModelPanel';
import { SelectionPanel } from './SelectionPanel';
import { TrainPanel } from './TrainPanel';
import type { PanelId } from '../panelIds';

export interface PanelSpec {
  id: PanelId;
  label: string;
  Component: ComponentType;
}

export const PANELS: readonly PanelSpec[] = [
  { id: 'model', label: 'Model', Component: ModelPanel },
  { id: 'data', label: 'Data', Component: DataPanel },
  { id: 'selection', label: 'Selection', Component: SelectionPanel },
  { id: 'train', label: 'Train', Component: TrainPanel },
  { id: 'compare', label: 'Compare', Component: ComparePanel },
  { id: 'adapters', label: 'Adapters', Component: AdaptersPanel },
];
