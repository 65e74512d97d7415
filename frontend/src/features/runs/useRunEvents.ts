import { useEffect } from 'react';
import { api, errorMessage } from '../../api/client';
import type { Run, RunStatus, Step } from '../../api/types';
import { isRunClosed } from '../../lib/status';
import { useRunStore } from '../../stores/run-store';

const POLL_MS = 2000;

/**
 * Keep the run store on one run: listen to its event stream (`snapshot`, `step`,
 * `run`), and poll GET /runs/{id} every ~2 s once the stream fails. Both stop when
 * the run is closed.
 */
export function useRunEvents(runId: string): void {
  useEffect(() => {
    const store = useRunStore.getState();
    store.reset();
    let stopped = false;
    let source: EventSource | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const stop = () => {
      stopped = true;
      source?.close();
      clearTimeout(timer);
    };
    const closeIfDone = (status: RunStatus) => {
      if (!isRunClosed(status)) return;
      stop();
      useRunStore.getState().setConnection('closed');
    };
    const onSnapshot = (run: Run) => {
      useRunStore.getState().applySnapshot(run);
      closeIfDone(run.status);
    };
    const poll = async () => {
      try {
        const run = await api.getRun(runId);
        if (!stopped) onSnapshot(run);
      } catch (error) {
        if (!stopped) useRunStore.getState().setError(errorMessage(error));
      }
      if (!stopped) timer = setTimeout(poll, POLL_MS);
    };
    const startPolling = () => {
      source?.close();
      if (stopped) return;
      useRunStore.getState().setConnection('polling');
      clearTimeout(timer);
      timer = setTimeout(poll, POLL_MS);
    };

    // A first look, in case the stream is slow; its own snapshot (if first) is fresher.
    api
      .getRun(runId)
      .then((run) => !stopped && !useRunStore.getState().run && onSnapshot(run))
      .catch((error: unknown) => !stopped && useRunStore.getState().setError(errorMessage(error)));

    if (typeof EventSource === 'function') {
      source = new EventSource(api.runEventsUrl(runId));
      source.onopen = () => useRunStore.getState().setConnection('live');
      source.onerror = startPolling;
      source.addEventListener('snapshot', (event) => onSnapshot(JSON.parse(event.data) as Run));
      source.addEventListener('step', (event) => useRunStore.getState().applyStep(JSON.parse(event.data) as Step));
      source.addEventListener('run', (event) => {
        const data = JSON.parse(event.data) as { run_id: string; status: RunStatus };
        useRunStore.getState().applyRunStatus(data);
        closeIfDone(data.status);
      });
    } else {
      startPolling();
    }
    return stop;
  }, [runId]);
}
