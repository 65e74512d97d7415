/** The saved workflows a sub-workflow step can run (GET /workflows), fetched once per page load. */
import { create } from 'zustand';
import { api, errorMessage } from '../api/client';
import type { WorkflowSummary } from '../api/types';

export interface WorkflowListState {
  workflows: WorkflowSummary[];
  status: 'idle' | 'loading' | 'ready' | 'error';
  error: string | null;
}

export interface WorkflowListActions {
  /** Fetch the list unless it is already loaded or loading. */
  ensureLoaded: () => Promise<void>;
}

/** The API's largest page: a picker offers the first 200 workflows by name. */
const LIMIT = 200;

export const useWorkflowList = create<WorkflowListState & WorkflowListActions>()((set, get) => ({
  workflows: [],
  status: 'idle',
  error: null,
  ensureLoaded: async () => {
    if (get().status === 'loading' || get().status === 'ready') return;
    set({ status: 'loading', error: null });
    try {
      const page = await api.listWorkflows({ limit: LIMIT });
      set({ workflows: page.items, status: 'ready' });
    } catch (error) {
      set({ status: 'error', error: errorMessage(error) });
    }
  },
}));
