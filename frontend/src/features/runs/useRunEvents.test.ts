// @vitest-environment jsdom
import { act, cleanup, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Run } from '../../api/types';
import { useLiveOutputStore } from '../../stores/live-output-store';
import { useRunStore } from '../../stores/run-store';
import { useRunEvents } from './useRunEvents';

/** An EventSource the test drives: it opens, sends events and fails on command. */
class FakeEventSource extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  static last: FakeEventSource | undefined;
  readyState = FakeEventSource.CONNECTING;
  onopen: (() => void) | null = null;

  constructor(readonly url: string) {
    super();
    FakeEventSource.last = this;
  }

  open() {
    this.readyState = FakeEventSource.OPEN;
    this.onopen?.();
  }

  send(event: string, data: unknown) {
    this.dispatchEvent(new MessageEvent(event, { data: JSON.stringify(data) }));
  }

  /** The connection drops: EventSource retries (CONNECTING), or has given up (CLOSED). */
  fail(readyState: number) {
    this.readyState = readyState;
    this.dispatchEvent(new Event('error'));
  }

  close() {
    this.readyState = FakeEventSource.CLOSED;
  }
}

const run = { run_id: 'run-1', status: 'running', steps: [] } as unknown as Run;

function stream(): FakeEventSource {
  const source = FakeEventSource.last;
  if (!source) throw new Error('no EventSource was opened');
  return source;
}

beforeEach(() => {
  FakeEventSource.last = undefined;
  vi.stubGlobal('EventSource', FakeEventSource);
  // The first look (GET /runs/run-1) never answers: the stream is what is tested.
  vi.stubGlobal('fetch', vi.fn(() => new Promise(() => undefined)));
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('useRunEvents', () => {
  it("shows the server's error event and lets EventSource reconnect", () => {
    renderHook(() => useRunEvents('run-1'));
    act(() => {
      stream().open();
      stream().send('snapshot', run);
    });
    expect(useRunStore.getState().connection).toBe('live');

    act(() => stream().send('error', { run_id: 'run-1', message: 'lost track of run run-1: no run run-1' }));
    expect(useRunStore.getState().error).toBe('lost track of run run-1: no run run-1');
    expect(useRunStore.getState().connection).toBe('connecting');
    // The stream ends; EventSource retries by itself, so the hook neither closes it nor polls.
    act(() => stream().fail(FakeEventSource.CONNECTING));
    expect(stream().readyState).toBe(FakeEventSource.CONNECTING);
    expect(useRunStore.getState().connection).toBe('connecting');

    // The new stream's snapshot says where the run stands, and the message goes.
    act(() => {
      stream().open();
      stream().send('snapshot', run);
    });
    expect(useRunStore.getState().error).toBeNull();
    expect(useRunStore.getState().connection).toBe('live');
  });

  it('polls once EventSource gives up on the stream', () => {
    renderHook(() => useRunEvents('run-1'));
    act(() => stream().fail(FakeEventSource.CLOSED));
    expect(useRunStore.getState().connection).toBe('polling');
  });

  it("keeps a running step's streamed text, and lets it go when the step stops running", () => {
    renderHook(() => useRunEvents('run-1'));
    const token = { run_id: 'run-1', step_id: 'draft', execution: 1, attempt: 1, call_index: 0 };
    act(() => {
      stream().open();
      stream().send('snapshot', { ...run, steps: [{ id: 'draft', status: 'running' }] });
      stream().send('token', { ...token, text: 'Final Answer:' });
      stream().send('token', { ...token, text: ' ok' });
    });
    expect(useLiveOutputStore.getState().byStep.draft?.text).toBe('Final Answer: ok');
    act(() => stream().send('step', { id: 'draft', status: 'completed' }));
    expect(useLiveOutputStore.getState().byStep.draft).toBeUndefined();
  });
});
