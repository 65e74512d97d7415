// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Run, Step } from '../../api/types';
import { useRunStore } from '../../stores/run-store';
import { signInAs } from '../../test/fixtures';
import { StepPanel } from './StepPanel';

// Cast: a step fixture names the fields these tests read; fields the API adds later need not break it.
const step = (extra: Partial<Step>): Step =>
  ({
  id: 'review',
  type: 'approval',
  status: 'waiting',
  approvers: [],
  attempt: 1,
  execution: 1,
  cost_micros: 0,
  message: null,
  pause_reason: null,
  waiting_since: null,
  output: null,
  error: null,
  started_at: '2025-01-01T00:00:00Z',
  finished_at: null,
  usage: null,
  transcript: [],
  round: 0,
  deadline: '2025-01-02T00:00:00Z',
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

const definition = { steps: [{ id: 'review', type: 'approval' as const, message: 'Publish?', after: [] }] };

/** Answer every request with `body`, but a task step's transcript with no attempts yet. */
function respond(body: unknown, status = 200) {
  const fetchMock = vi.fn(async (url: string, _init?: RequestInit) =>
    url.endsWith('/transcript')
      ? new Response(JSON.stringify({ attempts: [] }), { status: 200 })
      : new Response(JSON.stringify(body), { status }),
  );
  vi.stubGlobal('fetch', fetchMock);
  return fetchMock;
}

beforeEach(() => {
  signInAs('operator');
  useRunStore.getState().reset();
  useRunStore.getState().applySnapshot({ run_id: 'run-1', steps: [step({})] } as unknown as Run);
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('step panel', () => {
  it('approves a waiting gate with a comment', async () => {
    const fetchMock = respond(step({ status: 'approved' }));
    render(<StepPanel runId="run-1" step={step({})} definition={definition} onClose={() => undefined} />);
    expect(screen.getByText('Publish?')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Reject' })).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Comment'), { target: { value: 'Looks good' } });
    fireEvent.click(screen.getByRole('button', { name: 'Approve' }));
    await waitFor(() => expect(useRunStore.getState().run?.steps[0]?.status).toBe('approved'));
    expect(fetchMock).toHaveBeenCalledWith('/api/v1/runs/run-1/steps/review/decision', expect.objectContaining({ method: 'POST' }));
    const body = JSON.parse(String((fetchMock.mock.calls[0] as unknown as [string, RequestInit])[1].body));
    expect(body).toMatchObject({ decision: 'approve', comment: 'Looks good', round: 0 });
  });

  it('shows why a decision was refused', async () => {
    respond({ detail: 'step review is not waiting' }, 409);
    render(<StepPanel runId="run-1" step={step({})} definition={definition} onClose={() => undefined} />);
    fireEvent.click(screen.getByRole('button', { name: 'Reject' }));
    expect((await screen.findByRole('alert')).textContent).toBe('step review is not waiting');
  });

  it('offers Retry and Skip (with its output) on a paused task', async () => {
    const fetchMock = respond(step({ id: 'research', type: 'task', status: 'skipped' }));
    const paused = step({ id: 'research', type: 'task', status: 'paused', error: 'LLM unreachable' });
    render(<StepPanel runId="run-1" step={paused} definition={null} onClose={() => undefined} />);
    expect(screen.getByText('LLM unreachable')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Retry' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Approve' })).toBeNull();
    fireEvent.change(screen.getByLabelText('Output'), { target: { value: 'by hand' } });
    fireEvent.click(screen.getByRole('button', { name: 'Skip' }));
    await waitFor(() => expect(fetchMock).toHaveBeenCalledWith('/api/v1/runs/run-1/steps/research/skip', expect.anything()));
    const [, init] = fetchMock.mock.calls.find(([url]) => url.endsWith('/skip')) ?? [];
    expect(JSON.parse(String(init?.body))).toMatchObject({ output: 'by hand' });
  });

  it('renders the output as markdown and folds each transcript call', async () => {
    respond({});
    const done = step({
      id: 'research',
      type: 'task',
      status: 'completed',
      output: '## Notes\n- **one**',
      usage: { prompt_tokens: 1200, completion_tokens: 5, cached_tokens: 1000, total_tokens: 1205, llm_calls: 1, cost_micros: 3_100 },
      transcript: [
        {
          kind: 'llm',
          model: 'local',
          messages: [{ role: 'user', content: 'Research' }],
          reply: 'Notes',
          tool_calls: [],
          replayed: false,
          execution: null,
          usage: { prompt_tokens: 1200, completion_tokens: 5, cached_tokens: 1000, total_tokens: 1205, llm_calls: 1, cost_micros: 3_100 },
          latency_ms: 1200,
          started_at: '2025-01-01T00:00:00Z',
        },
      ],
    });
    render(<StepPanel runId="run-1" step={done} definition={null} onClose={() => undefined} />);
    // The Markdown renderer loads on first use.
    expect(await screen.findByRole('heading', { name: 'Notes' })).toBeTruthy();
    expect(screen.getByText('one').tagName).toBe('STRONG');
    expect(screen.getByText(/1\. LLM/).closest('details')?.open).toBe(false);
    const usage = within(screen.getByRole('region', { name: 'Usage' }));
    const fact = (term: string) => usage.getByText(term).nextElementSibling?.textContent;
    expect([fact('Prompt tokens'), fact('Completion tokens'), fact('Cached tokens'), fact('Total tokens')]).toEqual([
      '1,200',
      '5',
      '1,000',
      '1,205',
    ]);
    expect([fact('LLM calls'), fact('Cost')]).toEqual(['1', '$0.0031']);
    // The endpoint knows no finished attempt yet: the step's own calls stay shown.
    await waitFor(() => expect(vi.mocked(fetch)).toHaveBeenCalledWith('/api/v1/runs/run-1/steps/research/transcript', expect.anything()));
    expect(screen.getByText(/1\. LLM/)).toBeTruthy();
  });

  it('says nothing of usage for a step that made no LLM call', () => {
    respond({});
    render(<StepPanel runId="run-1" step={step({ usage: { prompt_tokens: 0, completion_tokens: 0, cached_tokens: 0, total_tokens: 0, llm_calls: 0, cost_micros: 0 } })} definition={definition} onClose={() => undefined} />);
    expect(screen.queryByRole('region', { name: 'Usage' })).toBeNull();
  });

  it('offers Approve and Reject only to the gate\'s approvers, and says who decides', () => {
    respond({});
    signInAs('viewer', 'ann@kasal.test');
    const { unmount } = render(<StepPanel runId="run-1" step={step({})} definition={definition} onClose={() => undefined} />);
    expect(screen.queryByRole('button', { name: 'Approve' })).toBeNull();
    expect(screen.getByRole('note').textContent).toBe('Waiting for a decision by operators and above: not you.');
    unmount();
    render(
      <StepPanel runId="run-1" step={step({ approvers: ['ANN@kasal.test', 'admin'] })} definition={definition} onClose={() => undefined} />,
    );
    expect(screen.getByRole('button', { name: 'Approve' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Reject' })).toBeTruthy();
  });

  it('offers a viewer no Retry or Skip on a paused task, and says why', () => {
    respond({});
    signInAs('viewer');
    const paused = step({ id: 'research', type: 'task', status: 'paused', error: 'LLM unreachable' });
    render(<StepPanel runId="run-1" step={paused} definition={null} onClose={() => undefined} />);
    expect(screen.queryByRole('button', { name: 'Retry' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Skip' })).toBeNull();
    expect(screen.getByRole('note').textContent).toMatch(/^Only operators and above can run workflows, retry, skip/);
  });
});
