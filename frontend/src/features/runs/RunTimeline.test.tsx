// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Run, RunTimeline as Timeline, TimelineAttempt, TimelineCall, TimelineStep } from '../../api/types';
import { RunTimeline } from './RunTimeline';
import { TimelineView } from './TimelineView';
import { TIMELINE_REFRESH_MS } from './useRunTimeline';

const usage = { prompt_tokens: 90, completion_tokens: 30, cached_tokens: 0, total_tokens: 120, llm_calls: 1, cost_micros: 1500 };
const t = (seconds: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, seconds)).toISOString();

const llm = (index: number, start: number, end: number): TimelineCall => ({
  kind: 'llm',
  call_index: index,
  model: 'openai/gpt-x',
  started_at: t(start),
  finished_at: t(end),
  latency_ms: (end - start) * 1000,
  usage,
  cost_usd: 0.0015,
});

const attempt = (extra: Partial<TimelineAttempt>): TimelineAttempt => ({
  execution: 1,
  attempt: 1,
  started_at: t(0),
  finished_at: t(2),
  outcome: 'succeeded',
  error: null,
  calls: [],
  replayed_calls: 0,
  ...extra,
});

const REVIEW: TimelineStep = {
  step_id: 'review',
  type: 'approval',
  status: 'approved',
  started_at: t(20),
  finished_at: t(30),
  attempts: [],
  gaps: [],
  gate_waits: [{ round: 1, started_at: t(20), ended_at: t(30), decision: 'approve', actor: 'ann@example.com' }],
  child_run_ids: [],
};

const TIMELINE: Timeline = {
  run_id: 'run-1',
  status: 'completed',
  started_at: t(0),
  closed_at: t(40),
  now: t(45),
  steps: [
    {
      step_id: 'research',
      type: 'task',
      status: 'completed',
      started_at: t(0),
      finished_at: t(20),
      attempts: [
        attempt({ finished_at: t(2), outcome: 'failed', error: 'InternalServerError: 500' }),
        attempt({
          attempt: 2,
          started_at: t(6),
          finished_at: t(20),
          calls: [
            llm(0, 7, 9),
            { kind: 'tool', call_index: 1, tool: 'calculate', started_at: t(9), finished_at: t(10), latency_ms: 1000, error: null },
            llm(2, 10, 19),
          ],
        }),
      ],
      gaps: [{ kind: 'backoff', execution: 1, started_at: t(2), ended_at: t(6) }],
      gate_waits: [],
      child_run_ids: [],
    },
    REVIEW,
    {
      step_id: 'each',
      type: 'map',
      status: 'completed',
      started_at: t(30),
      finished_at: t(40),
      attempts: [],
      gaps: [],
      gate_waits: [],
      child_run_ids: ['run-1-each-0'],
    },
  ],
};

/** A bar's place on the axis, in percent, as drawn. */
const span = (bar: HTMLElement) => {
  const left = parseFloat(bar.style.left);
  return { left, right: left + parseFloat(bar.style.width) };
};

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('RunTimeline', () => {
  it('draws a row per step with its attempts, the backoff between them and the calls inside', () => {
    render(<RunTimeline timeline={TIMELINE} />);
    const row = screen.getByRole('group', { name: 'Step research' });
    const bars = within(row).getAllByRole('img');
    expect(bars).toHaveLength(6); // two attempts, one backoff, three calls

    const failed = within(row).getByRole('img', { name: /^Attempt 1 of execution 1, failed, 2\.0 s: InternalServerError: 500$/ });
    const backoff = within(row).getByRole('img', { name: /^Retry backoff after a failed attempt of execution 1, 4\.0 s$/ });
    const passed = within(row).getByRole('img', { name: /^Attempt 2 of execution 1, succeeded, 14\.0 s$/ });
    // The run spans 40 s of the axis, so a second is 2.5 %.
    expect(span(failed)).toEqual({ left: 0, right: 5 });
    expect(span(backoff)).toEqual({ left: 5, right: 15 });
    expect(span(passed)).toEqual({ left: 15, right: 50 });

    const calls = [
      within(row).getByRole('img', { name: 'LLM call to openai/gpt-x, 2.0 s, 120 tokens, $0.0015' }),
      within(row).getByRole('img', { name: 'Tool call calculate, 1.0 s' }),
      within(row).getByRole('img', { name: 'LLM call to openai/gpt-x, 9.0 s, 120 tokens, $0.0015' }),
    ];
    for (const call of calls) {
      expect(span(call).left).toBeGreaterThanOrEqual(span(passed).left);
      expect(span(call).right).toBeLessThanOrEqual(span(passed).right);
    }
  });

  it('draws a gate’s wait and a map’s time, and links the child runs it does not draw', () => {
    render(<RunTimeline timeline={TIMELINE} />);
    const review = within(screen.getByRole('group', { name: 'Step review' }));
    const gate = review.getByRole('img', { name: 'Gate round 1, approved by ann@example.com after 10.0 s' });
    expect(review.getAllByRole('img')).toEqual([gate]);
    expect(span(gate)).toEqual({ left: 50, right: 75 });
    const map = within(screen.getByRole('group', { name: 'Step each' }));
    expect(map.getAllByRole('img').map((bar) => bar.getAttribute('aria-label'))).toEqual(['map step completed, 10.0 s']);
    expect(screen.getByRole('link', { name: 'run-1-each-0' }).getAttribute('href')).toBe('#/runs/run-1-each-0');
  });

  it('shows a bar’s details on focus and on hover, and every bar can take focus', () => {
    render(<RunTimeline timeline={TIMELINE} />);
    expect(screen.getByText('Hover over or focus a bar for its details.')).toBeTruthy();
    const tool = screen.getByRole('img', { name: 'Tool call calculate, 1.0 s' });
    fireEvent.focus(tool);
    expect(document.querySelector('.timeline__details')?.textContent).toBe('Tool call calculate, 1.0 s');
    fireEvent.mouseEnter(screen.getByRole('img', { name: /^Retry backoff/ }));
    expect(document.querySelector('.timeline__details')?.textContent).toMatch(/^Retry backoff/);
    for (const bar of screen.getAllByRole('img')) expect(bar.tabIndex).toBe(0);
  });

  it('draws a bar still going up to now, and says so', () => {
    const running: Timeline = {
      ...TIMELINE,
      status: 'waiting_for_approval',
      closed_at: null,
      now: t(40),
      steps: [{ ...REVIEW, status: 'waiting', finished_at: null, gate_waits: [{ round: 1, started_at: t(20), ended_at: null, decision: null, actor: '' }] }],
    };
    render(<RunTimeline timeline={running} />);
    const gate = screen.getByRole('img', { name: 'Gate waiting for a decision, round 1, 20.0 s so far' });
    expect(span(gate)).toEqual({ left: 50, right: 100 });
  });
});

describe('TimelineView', () => {
  const run = (status: Run['status']) => ({ run_id: 'run-1', status, steps: [] }) as unknown as Run;

  it('reads the timeline again while the run is open, and not once it has closed', async () => {
    vi.useFakeTimers();
    const fetchMock = vi.fn(async (_url: string) => new Response(JSON.stringify(TIMELINE)));
    vi.stubGlobal('fetch', fetchMock);
    const view = render(<TimelineView run={run('running')} />);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(0);
    });
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(String(fetchMock.mock.calls[0]?.[0])).toMatch(/\/runs\/run-1\/timeline$/);
    expect(screen.getByRole('group', { name: 'Step research' })).toBeTruthy();
    await act(async () => {
      await vi.advanceTimersByTimeAsync(TIMELINE_REFRESH_MS);
    });
    expect(fetchMock).toHaveBeenCalledTimes(2);

    view.rerender(<TimelineView run={run('completed')} />);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(TIMELINE_REFRESH_MS * 3);
    });
    expect(fetchMock).toHaveBeenCalledTimes(3); // once more for the close, then no more
  });
});
