/**
 * The studio's UI state (zustand). Worker results land here; components read slices of it.
 * Everything but `worker` is plain data: `settings` is the one record a setup is saved and
 * restored from (settings.ts), the rest is what the worker reported back. ARCHITECTURE.md
 * "Layers" says what the page may import.
 */
import type { Remote } from 'comlink';
import { create } from 'zustand';
import type {
  AdapterSummary,
  BackendInfo,
  BuiltinDatasetEntry,
  BuiltinModelEntry,
  CheckpointSummary,
  DataSource,
  DataSummary,
  EvalPoint,
  ModelLoadProgress,
  ModelSource,
  ModelSummary,
  RunSummary,
  SampleGeneration,
  SelectionSummary,
  SmokeTrainProgress,
  SmokeTrainResult,
  StepPoint,
  TrainErrorInfo,
  TrainPhase,
  TrainingWorkerApi,
} from '../../workers/api';
import type { PanelId } from './panelIds';
import { DEFAULT_SETTINGS, type StudioSettings } from './settings';

export type BackendState =
  { status: 'starting' } | { status: 'ready'; info: BackendInfo } | { status: 'failed'; message: string };

export type SmokeTestState =
  | { status: 'idle' }
  | { status: 'running'; steps: number; progress: SmokeTrainProgress[] }
  | { status: 'done'; result: SmokeTrainResult }
  | { status: 'failed'; message: string };

/** A request to the worker that takes a while: its state, and its result or error. */
export type Task<T, P = never> =
  | { status: 'idle' }
  | { status: 'busy'; progress?: P }
  | { status: 'ready'; value: T }
  | { status: 'failed'; message: string };

export interface SampleRound {
  step: number;
  samples: SampleGeneration[];
}

/** A run's history: what the Train panel draws live and the Compare panel overlays. */
export interface RunHistory {
  runId: string;
  name: string;
  steps: StepPoint[];
  evals: EvalPoint[];
  samples: SampleRound[];
}

export interface LiveRun extends RunHistory {
  phase: TrainPhase;
  message: string;
  error?: TrainErrorInfo;
}

/** A finished run: the worker's summary plus its curves. */
export interface RunRecord {
  summary: RunSummary;
  history: RunHistory;
  savedAt: number;
}

interface StudioState {
  /** The training worker's API; null until the worker is up and after it is shut down. */
  worker: Remote<TrainingWorkerApi> | null;
  backend: BackendState;
  activePanel: PanelId;
  smokeTest: SmokeTestState;
  settings: StudioSettings;
  /** Problems met restoring settings from the link or a file, shown once. */
  settingsProblems: string[];
  builtinModels: BuiltinModelEntry[];
  builtinDatasets: BuiltinDatasetEntry[];
  model: Task<ModelSummary, ModelLoadProgress>;
  data: Task<DataSummary>;
  selection: Task<SelectionSummary>;
  live: LiveRun | null;
  runs: RunRecord[];
  adapters: AdapterSummary[];
  activeAdapter: string;
  /** Interrupted runs the studio offers to resume. */
  checkpoints: CheckpointSummary[];
  /** Where the loaded model and data came from, so a restarted worker reopens the same ones. */
  modelSource: ModelSource | null;
  dataSource: DataSource | null;
  /** What happened to the last training worker that died (device lost, crash), and what was done about it. */
  workerNotice: string | null;
  setWorker: (worker: Remote<TrainingWorkerApi> | null) => void;
  setBackend: (backend: BackendState) => void;
  setActivePanel: (panel: PanelId) => void;
  setSmokeTest: (smokeTest: SmokeTestState) => void;
  updateSettings: (change: Partial<StudioSettings>) => void;
}

export const useStudio = create<StudioState>()((set) => ({
  worker: null,
  backend: { status: 'starting' },
  activePanel: 'model',
  smokeTest: { status: 'idle' },
  settings: DEFAULT_SETTINGS,
  settingsProblems: [],
  builtinModels: [],
  builtinDatasets: [],
  model: { status: 'idle' },
  data: { status: 'idle' },
  selection: { status: 'idle' },
  live: null,
  runs: [],
  adapters: [],
  activeAdapter: 'base',
  checkpoints: [],
  modelSource: null,
  dataSource: null,
  workerNotice: null,
  setWorker: (worker) => set({ worker }),
  setBackend: (backend) => set({ backend }),
  setActivePanel: (activePanel) => set({ activePanel }),
  setSmokeTest: (smokeTest) => set({ smokeTest }),
  updateSettings: (change) => set((s) => ({ settings: { ...s.settings, ...change } })),
}));

/** The worker, or an error saying it is not up: actions call this before any request. */
export function requireWorker(): Remote<TrainingWorkerApi> {
  const worker = useStudio.getState().worker;
  if (!worker) throw new Error('the training worker is not running');
  return worker;
}
