/** The model configs agents can use (GET /models), fetched once per page load. */
import { create } from 'zustand';
import { api, errorMessage } from '../api/client';
import type { ModelConfig } from '../api/types';

export interface ModelsState {
  models: ModelConfig[];
  status: 'idle' | 'loading' | 'ready' | 'error';
  error: string | null;
}

export interface ModelsActions {
  /** Fetch the list unless it is already loaded or loading. */
  ensureLoaded: () => Promise<void>;
}

export const useModels = create<ModelsState & ModelsActions>()((set, get) => ({
  models: [],
  status: 'idle',
  error: null,
  ensureLoaded: async () => {
    if (get().status === 'loading' || get().status === 'ready') return;
    set({ status: 'loading', error: null });
    try {
      set({ models: await api.listModels(), status: 'ready' });
    } catch (error) {
      set({ status: 'error', error: errorMessage(error) });
    }
  },
}));
