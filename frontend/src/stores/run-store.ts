/** The run on the console, kept current by its event stream (or by polling). */
import { create } from 'zustand';
import type { Run, RunStatus, Step } from '../api/types';

/** How the console hears about changes: the event stream, polling, or not at all (closed run). */
export type Connection = 'connecting' | 'live' | 'polling' | 'closed';

export interface RunState {
  run: Run | null;
  selectedStepId: string | null;
  connection: Connection;
  error: string | null;
}

export interface RunActions {
  /** Start over for another run. */
  reset: () => void;
  /** A whole run (the `snapshot` event, or a poll). */
  applySnapshot: (run: Run) => void;
  /** One step changed (the `step` event, or the answer to a decision, retry or skip). */
  applyStep: (step: Step) => void;
  /** The run's status changed (the `run` event). */
  applyRunStatus: (event: { run_id: string; status: RunStatus }) => void;
  selectStep: (stepId: string | null) => void;
  setConnection: (connection: Connection) => void;
  setError: (error: string | null) => void;
}

const initialState: RunState = { run: null, selectedStepId: null, connection: 'connecting', error: null };

export const useRunStore = create<RunState & RunActions>()((set) => ({
  ...initialState,

  reset: () => set(initialState),

  applySnapshot: (run) => set({ run, error: null }),

  applyStep: (step) =>
    set(({ run }) => {
      if (!run) return {};
      const known = run.steps.some((existing) => existing.id === step.id);
      const steps = known
        ? run.steps.map((existing) => (existing.id === step.id ? step : existing))
        : [...run.steps, step];
      return { run: { ...run, steps } };
    }),

  applyRunStatus: ({ run_id, status }) =>
    set(({ run }) => (run && run.run_id === run_id ? { run: { ...run, status } } : {})),

  selectStep: (selectedStepId) => set({ selectedStepId }),
  setConnection: (connection) => set({ connection }),
  setError: (error) => set({ error }),
}));
