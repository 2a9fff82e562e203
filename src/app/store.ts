/**
 * The studio's UI state (zustand). Worker results land here; components read slices of it.
 * Everything but `worker` is plain data, so a setup can later be saved and restored.
 */
import type { Remote } from 'comlink';
import { create } from 'zustand';
import type { BackendInfo, SmokeTrainProgress, SmokeTrainResult, TrainingWorkerApi } from '../../workers/api';
import type { PanelId } from './panels/registry';

export type BackendState =
  | { status: 'starting' }
  | { status: 'ready'; info: BackendInfo }
  | { status: 'failed'; message: string };

export type SmokeTestState =
  | { status: 'idle' }
  | { status: 'running'; steps: number; progress: SmokeTrainProgress[] }
  | { status: 'done'; result: SmokeTrainResult }
  | { status: 'failed'; message: string };

interface StudioState {
  /** The training worker's API; null until the worker is up and after it is shut down. */
  worker: Remote<TrainingWorkerApi> | null;
  backend: BackendState;
  activePanel: PanelId;
  smokeTest: SmokeTestState;
  setWorker: (worker: Remote<TrainingWorkerApi> | null) => void;
  setBackend: (backend: BackendState) => void;
  setActivePanel: (panel: PanelId) => void;
  setSmokeTest: (smokeTest: SmokeTestState) => void;
}

export const useStudio = create<StudioState>()((set) => ({
  worker: null,
  backend: { status: 'starting' },
  activePanel: 'model',
  smokeTest: { status: 'idle' },
  setWorker: (worker) => set({ worker }),
  setBackend: (backend) => set({ backend }),
  setActivePanel: (activePanel) => set({ activePanel }),
  setSmokeTest: (smokeTest) => set({ smokeTest }),
}));
