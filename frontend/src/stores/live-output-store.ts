/** The text of each running step's LLM call as it streams (the run's `token` events). */
import { create } from 'zustand';
import type { TokenEvent } from '../api/types';

/** One step's call streaming now: which call it is, and its text so far. */
export interface LiveCall {
  call: string;
  text: string;
}

export interface LiveOutputState {
  byStep: Record<string, LiveCall>;
}

export interface LiveOutputActions {
  /** Start over for another run. */
  reset: () => void;
  /** More text of a step's call; the step's next call starts over. */
  applyToken: (event: TokenEvent) => void;
  /** The step stopped running: its live text goes, its output is the record. */
  clearStep: (stepId: string) => void;
}

const callOf = (event: TokenEvent) => `${event.execution}/${event.attempt}/${event.call_index}`;

export const useLiveOutputStore = create<LiveOutputState & LiveOutputActions>()((set) => ({
  byStep: {},

  reset: () => set({ byStep: {} }),

  applyToken: (event) =>
    set(({ byStep }) => {
      const call = callOf(event);
      const current = byStep[event.step_id];
      const text = current?.call === call ? current.text + event.text : event.text;
      return { byStep: { ...byStep, [event.step_id]: { call, text } } };
    }),

  clearStep: (stepId) =>
    set(({ byStep }) => {
      if (!(stepId in byStep)) return {};
      const { [stepId]: _gone, ...rest } = byStep;
      return { byStep: rest };
    }),
}));
