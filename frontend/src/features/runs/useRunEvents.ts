import { useEffect } from 'react';
import { api, errorMessage } from '../../api/client';
import type { Run, RunEvents, RunStatus } from '../../api/types';
import { isRunClosed } from '../../lib/status';
import { useLiveOutputStore } from '../../stores/live-output-store';
import { useRunStore } from '../../stores/run-store';

const POLL_MS = 2000;

/**
 * Keep the run store on one run: listen to its event stream (`snapshot`, `step`,
 * `run`, and `token`, the running steps' text as it streams), and poll GET /runs/{id} every ~2 s once the stream cannot be had. Both stop
 * when the run is closed.
 *
 * When the server loses track of the run it says why in an `error` event and ends the
 * stream: the message is shown, and EventSource reconnects by itself; the new stream's
 * `snapshot` says where the run stands (and clears the message). A connection that
 * EventSource gives up on (an answer that is not a stream, such as a 404 or 503) falls
 * back to polling.
 */
export function useRunEvents(runId: string): void {
  useEffect(() => {
    const store = useRunStore.getState();
    store.reset();
    useLiveOutputStore.getState().reset();
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
      for (const step of run.steps) if (step.status !== 'running') useLiveOutputStore.getState().clearStep(step.id);
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
      const stream = new EventSource(api.runEventsUrl(runId));
      source = stream;
      const data = <Name extends keyof RunEvents>(event: MessageEvent<string>) =>
        JSON.parse(event.data) as RunEvents[Name];
      stream.onopen = () => useRunStore.getState().setConnection('live');
      stream.addEventListener('snapshot', (event) => onSnapshot(data<'snapshot'>(event)));
      stream.addEventListener('step', (event) => {
        const step = data<'step'>(event);
        useRunStore.getState().applyStep(step);
        if (step.status !== 'running') useLiveOutputStore.getState().clearStep(step.id);
      });
      stream.addEventListener('token', (event) => useLiveOutputStore.getState().applyToken(data<'token'>(event)));
      stream.addEventListener('run', (event) => {
        const change = data<'run'>(event);
        useRunStore.getState().applyRunStatus(change);
        closeIfDone(change.status);
      });
      // Both the server's `error` event (a MessageEvent, with data) and EventSource's
      // own connection errors (a plain Event) arrive as `error`.
      stream.addEventListener('error', (event) => {
        if (stopped) return;
        if (event instanceof MessageEvent && typeof event.data === 'string') {
          useRunStore.getState().setError(data<'error'>(event).message);
          useRunStore.getState().setConnection('connecting');
        } else if (stream.readyState === EventSource.CLOSED) {
          startPolling();
        } else {
          useRunStore.getState().setConnection('connecting'); // EventSource reconnects
        }
      });
    } else {
      startPolling();
    }
    return stop;
  }, [runId]);
}
