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
  /** What a person does after this panel, and where. */
  next: { panel: PanelId; text: string };
}

export const PANELS: readonly PanelSpec[] = [
  {
    id: 'model',
    label: 'Model',
    Component: ModelPanel,
    next: { panel: 'data', text: 'pick the data to fine-tune on; it is tokenized with this model.' },
  },
  {
    id: 'data',
    label: 'Data',
    Component: DataPanel,
    next: { panel: 'selection', text: 'choose which heads and channels S²FT trains (LoRA and full FT skip this).' },
  },
  {
    id: 'selection',
    label: 'Selection',
    Component: SelectionPanel,
    next: { panel: 'train', text: 'start a run with these units and watch its loss and answers change.' },
  },
  {
    id: 'train',
    label: 'Train',
    Component: TrainPanel,
    next: { panel: 'compare', text: 'set this run beside LoRA, full fine-tuning or another selection.' },
  },
  {
    id: 'compare',
    label: 'Compare',
    Component: ComparePanel,
    next: { panel: 'adapters', text: 'try, fuse and download the adapters your runs made.' },
  },
  {
    id: 'adapters',
    label: 'Adapters',
    Component: AdaptersPanel,
    next: { panel: 'train', text: 'train another run, or load a model of your own in Model.' },
  },
];
