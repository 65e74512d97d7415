// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Run, Step } from '../../api/types';
import { useRunStore } from '../../stores/run-store';
import { signInAs } from '../../test/fixtures';
import { StepPanel } from './StepPanel';

const OVER_RUN_BUDGET = "the next LLM call could cross the run's budget: raise it, then retry";

// Cast: the fixture names the fields these tests read.
const step = (extra: Partial<Step>): Step =>
  ({
    id: 'research',
    type: 'task',
    status: 'paused',
    pause_reason: 'budget',
    error: OVER_RUN_BUDGET,
    approvers: [],
    attempt: 1,
    execution: 1,
    cost_micros: 0,
    message: null,
    waiting_since: null,
    output: null,
    started_at: '2025-01-01T00:00:00Z',
    finished_at: null,
    usage: null,
    transcript: [],
    round: 0,
    deadline: null,
    decisions: [],
    log: [],
    branch: null,
    child_run_ids: [],
    child_status: null,
    items_total: null,
    items_done: 0,
    iteration: 0,
    ...extra,
  }) as Step;

type Answer = { status: number; body: unknown };
let answers: Record<string, Answer>;
let calls: { url: string; method: string; body: unknown }[];

beforeEach(() => {
  signInAs('operator');
  useRunStore.getState().reset();
  useRunStore.getState().applySnapshot({ run_id: 'run-1', steps: [step({})] } as unknown as Run);
  calls = [];
  answers = {
    '/api/v1/runs/run-1/budget': { status: 200, body: { max_cost_usd: 2.5, max_tokens: 40_000 } },
    '/api/v1/runs/run-1/steps/research/retry': { status: 200, body: step({ status: 'running', pause_reason: null, error: null }) },
    '/api/v1/runs/run-1/steps/research/transcript': { status: 200, body: { attempts: [] } },
  };
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      calls.push({ url, method: init?.method ?? 'GET', body: init?.body ? JSON.parse(String(init.body)) : undefined });
      const answer = answers[url] ?? { status: 404, body: { detail: 'not found' } };
      return new Response(JSON.stringify(answer.body), { status: answer.status });
    }),
  );
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const renderPaused = (extra: Partial<Step> = {}) =>
  render(<StepPanel runId="run-1" step={step(extra)} definition={null} onClose={() => undefined} />);
const posted = (path: string) => calls.filter((c) => c.url === `/api/v1/runs/run-1${path}` && c.method === 'POST');

describe('a step paused over budget', () => {
  it('says which budget, raises the run\'s limits, then retries the step', async () => {
    renderPaused();
    expect(screen.getByText(/^Paused over budget:/).parentElement?.textContent).toContain(OVER_RUN_BUDGET);
    expect(screen.queryByRole('button', { name: 'Retry' })).toBeNull();

    fireEvent.change(screen.getByLabelText('Max cost (USD)'), { target: { value: '2.5' } });
    fireEvent.change(screen.getByLabelText('Max tokens'), { target: { value: '40000' } });
    fireEvent.click(screen.getByRole('button', { name: 'Raise budget' }));

    expect((await screen.findByRole('status')).textContent).toBe(
      "The run's limits are now $2.50 and 40,000 tokens. Retry the step to run it again.",
    );
    expect(posted('/budget').map((c) => c.body)).toEqual([{ max_cost_usd: 2.5, max_tokens: 40_000 }]);
    const retry = screen.getByRole('button', { name: 'Retry step' });
    expect(document.activeElement).toBe(retry);

    fireEvent.click(retry);
    await waitFor(() => expect(useRunStore.getState().run?.steps[0]?.status).toBe('running'));
    // The execution the page showed paused, so a pause the run has yet to apply is waited for.
    expect(posted('/steps/research/retry').map((c) => c.body)).toEqual([{ execution: 1 }]);
  });

  it('sends only the limit given', async () => {
    renderPaused();
    fireEvent.change(screen.getByLabelText('Max tokens'), { target: { value: '9000' } });
    fireEvent.click(screen.getByRole('button', { name: 'Raise budget' }));
    await screen.findByRole('status');
    expect(posted('/budget').map((c) => c.body)).toEqual([{ max_tokens: 9_000 }]);
  });

  it('asks for a limit before sending nothing, and for a valid one', async () => {
    renderPaused();
    fireEvent.click(screen.getByRole('button', { name: 'Raise budget' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Give a new cost limit, a new token limit, or both.');
    fireEvent.change(screen.getByLabelText('Max tokens'), { target: { value: '1.5' } });
    fireEvent.click(screen.getByRole('button', { name: 'Raise budget' }));
    await waitFor(() => expect(screen.getByLabelText('Max tokens').getAttribute('aria-invalid')).toBe('true'));
    expect(screen.getByText('Enter a whole number of at least 1')).toBeTruthy();
    expect(posted('/budget')).toHaveLength(0);
  });

  it("shows the API's refusal: a closed run's 409, and a 422 beside its field", async () => {
    answers['/api/v1/runs/run-1/budget'] = { status: 409, body: { detail: 'run run-1 is closed' } };
    renderPaused();
    fireEvent.change(screen.getByLabelText('Max cost (USD)'), { target: { value: '3' } });
    fireEvent.click(screen.getByRole('button', { name: 'Raise budget' }));
    expect((await screen.findByRole('alert')).textContent).toBe('run run-1 is closed');

    answers['/api/v1/runs/run-1/budget'] = {
      status: 422,
      body: { detail: [{ loc: ['body', 'max_cost_usd'], msg: 'Input should be greater than 0', type: 'greater_than' }] },
    };
    fireEvent.click(screen.getByRole('button', { name: 'Raise budget' }));
    await waitFor(() => expect(screen.getByLabelText('Max cost (USD)').getAttribute('aria-invalid')).toBe('true'));
    expect(screen.getByText('Input should be greater than 0')).toBeTruthy();
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('offers a step paused by a failure no raise', () => {
    renderPaused({ pause_reason: 'failure', error: 'LLM unreachable' });
    expect(screen.queryByRole('button', { name: 'Raise budget' })).toBeNull();
    expect(screen.getByRole('button', { name: 'Retry' })).toBeTruthy();
  });

  it('offers a viewer no raise, and says why', () => {
    signInAs('viewer');
    renderPaused();
    expect(screen.queryByRole('button', { name: 'Raise budget' })).toBeNull();
    expect(screen.queryByLabelText('Max cost (USD)')).toBeNull();
    expect(screen.getByRole('note').textContent).toMatch(/^Only operators and above/);
  });
});
