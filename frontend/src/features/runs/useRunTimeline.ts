import { useEffect, useState } from 'react';
import { api, errorMessage } from '../../api/client';
import type { Run, RunTimeline } from '../../api/types';
import { isRunClosed } from '../../lib/status';

// While the run is open, calls start and finish without a step changing: read again this often.
export const TIMELINE_REFRESH_MS = 3000;

export interface RunTimelineState {
  timeline: RunTimeline | null;
  error: string | null;
}

/**
 * The run's timeline from `GET /runs/{id}/timeline`: fetched again whenever the console's
 * live run moves on (a step's status, attempt, execution or round), and every few seconds
 * while it is open, so bars still going grow. The last answer stays while the next loads.
 */
export function useRunTimeline(run: Run): RunTimelineState {
  const open = !isRunClosed(run.status);
  const progress = [run.status, ...run.steps.map((s) => `${s.id}:${s.status}:${s.execution}:${s.attempt}:${s.round}`)].join('\n');
  const [tick, setTick] = useState(0);
  const [state, setState] = useState<RunTimelineState & { runId: string }>({ runId: '', timeline: null, error: null });

  useEffect(() => {
    if (!open) return;
    const timer = setInterval(() => setTick((n) => n + 1), TIMELINE_REFRESH_MS);
    return () => clearInterval(timer);
  }, [open]);

  useEffect(() => {
    const controller = new AbortController();
    api.getRunTimeline(run.run_id, controller.signal).then(
      (timeline) => {
        if (!controller.signal.aborted) setState({ runId: run.run_id, timeline, error: null });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setState((last) => ({ ...last, runId: run.run_id, error: errorMessage(error) }));
      },
    );
    return () => controller.abort();
  }, [run.run_id, progress, tick]);

  return state.runId === run.run_id ? { timeline: state.timeline, error: state.error } : { timeline: null, error: null };
}
