// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AttemptTranscript, LlmCall, Step, ToolCall } from '../../api/types';
import { StepPanel } from './StepPanel';

const usage = { prompt_tokens: 10, completion_tokens: 5, cached_tokens: 0, total_tokens: 15, llm_calls: 1, cost_micros: 0 };

const llm = (extra: Partial<LlmCall>): LlmCall => ({
  kind: 'llm',
  model: 'local',
  messages: [{ role: 'user', content: 'Research tides' }],
  reply: 'Notes',
  tool_calls: [],
  usage,
  latency_ms: 1200,
  started_at: '2025-01-01T00:00:00Z',
  replayed: false,
  execution: null,
  ...extra,
});

const tool = (extra: Partial<ToolCall>): ToolCall => ({
  kind: 'tool',
  tool: 'web_search',
  arguments: { query: 'tides', limit: 3 },
  output: 'Tides are caused by the moon.',
  error: null,
  latency_ms: 120,
  started_at: '2025-01-01T00:00:01Z',
  replayed: false,
  ...extra,
});

const asksForSearch = llm({
  reply: '',
  tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'web_search', arguments: '{"query": "tides", "limit": 3}' } }],
});

const attempt = (extra: Partial<AttemptTranscript>): AttemptTranscript => ({
  execution: 1,
  attempt: 1,
  started_at: '2025-01-01T00:00:00Z',
  finished_at: '2025-01-01T00:00:05Z',
  error: null,
  entries: [],
  ...extra,
});

// Cast: a step fixture names the fields these tests read; fields the API adds later need not break it.
const fields: Partial<Step> = {
  id: 'research',
  type: 'task',
  approvers: [],
  status: 'completed',
  attempt: 2,
  execution: 1,
  cost_micros: 0,
  message: null,
  pause_reason: null,
  waiting_since: null,
  output: 'Notes',
  error: null,
  started_at: '2025-01-01T00:00:00Z',
  finished_at: '2025-01-01T00:00:10Z',
  usage,
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
};
const task = fields as Step;

/** The transcript endpoint answers these attempts. */
function serve(...attempts: AttemptTranscript[]) {
  const fetchMock = vi.fn(async (_url: string, _init?: RequestInit) => new Response(JSON.stringify({ attempts })));
  vi.stubGlobal('fetch', fetchMock);
  return fetchMock;
}

const renderPanel = () => render(<StepPanel runId="run-1" step={task} definition={null} onClose={() => undefined} />);

/** The folded entry whose summary reads `text`. */
const entry = (scope: HTMLElement, text: RegExp): HTMLDetailsElement => {
  const details = within(scope).getByText(text).closest('details');
  if (!details) throw new Error(`no entry ${text}`);
  return details;
};

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('step transcript', () => {
  it('shows each attempt, its calls in order, and why a failed attempt failed', async () => {
    const fetchMock = serve(
      attempt({ error: 'LLM unreachable', entries: [llm({})] }),
      attempt({ attempt: 2, entries: [asksForSearch, tool({}), llm({})] }),
    );
    renderPanel();
    const first = await screen.findByRole('region', { name: 'Execution 1, attempt 1' });
    expect(fetchMock).toHaveBeenCalledWith('/api/v1/runs/run-1/steps/research/transcript', expect.anything());
    expect(within(first).getByText('failed')).toBeTruthy();
    expect(within(first).getByText('LLM unreachable').className).toContain('code-block--error');

    const second = screen.getByRole('region', { name: 'Execution 1, attempt 2' });
    const summaries = within(second)
      .getAllByRole('listitem')
      .map((item) => item.querySelector('summary')?.textContent ?? '');
    expect(summaries).toHaveLength(3);
    expect(summaries[0]).toMatch(/^1\. LLM local/);
    expect(summaries[1]).toMatch(/^2\. Tool web_search · 120 ms$/);
    expect(summaries[2]).toMatch(/^3\. LLM local/);
  });

  it('shows a tool call with its pretty-printed arguments and its result', async () => {
    serve(attempt({ entries: [tool({})] }));
    renderPanel();
    const call = entry(await screen.findByRole('region', { name: 'Execution 1, attempt 1' }), /Tool/);
    expect(call.open).toBe(false);
    expect(within(call).getByRole('heading', { name: 'Arguments' })).toBeTruthy();
    expect(within(call).getByText(/"query": "tides"/).textContent).toBe('{\n  "query": "tides",\n  "limit": 3\n}');
    expect(within(call).getByRole('heading', { name: 'Result' })).toBeTruthy();
    expect(within(call).getByText('Tides are caused by the moon.')).toBeTruthy();
    expect(within(call).queryByText('error')).toBeNull();
    expect(within(call).queryByRole('button', { name: 'Show full result' })).toBeNull();
  });

  it('marks a tool call that failed and shows its error instead of a result', async () => {
    serve(attempt({ entries: [tool({ output: null, error: 'HTTP 503 from search' })] }));
    renderPanel();
    const call = entry(await screen.findByRole('region', { name: 'Execution 1, attempt 1' }), /Tool/);
    expect(call.className).toContain('transcript__entry--error');
    expect(within(call).getByText('error').className).toContain('tone-failed');
    expect(within(call).getByRole('heading', { name: 'Error' })).toBeTruthy();
    expect(within(call).getByText('HTTP 503 from search').className).toContain('code-block--error');
    expect(within(call).queryByRole('heading', { name: 'Result' })).toBeNull();
  });

  it('badges the calls answered from the call journal, and explains the badge', async () => {
    serve(attempt({ attempt: 2, entries: [llm({ replayed: true }), tool({ replayed: true }), llm({})] }));
    renderPanel();
    const region = await screen.findByRole('region', { name: 'Execution 1, attempt 2' });
    const badges = within(region).getAllByRole('note', {
      name: 'Replayed: answered from the call journal: not made again, not paid again',
    });
    expect(badges).toHaveLength(2);
    expect(badges[0]?.getAttribute('title')).toMatch(/answered from the call journal: not made again, not paid again/);
    expect(within(entry(region, /^1\. LLM/)).queryByRole('note')).toBeTruthy();
    expect(within(entry(region, /^2\. Tool/)).queryByRole('note')).toBeTruthy();
    expect(within(entry(region, /^3\. LLM/)).queryByRole('note')).toBeNull();
  });

  it('says which tools an LLM call asked for, and shows the messages that carry them', async () => {
    const answered = llm({
      messages: [
        { role: 'user', content: 'Research tides' },
        { role: 'assistant', content: null, tool_calls: asksForSearch.tool_calls },
        { role: 'tool', tool_call_id: 'call_1', content: 'Tides are caused by the moon.' },
      ],
    });
    serve(attempt({ entries: [asksForSearch, tool({}), answered] }));
    renderPanel();
    const region = await screen.findByRole('region', { name: 'Execution 1, attempt 1' });
    const asking = entry(region, /^1\. LLM/);
    const asked = 'asked for tools: web_search({"query":"tides","limit":3})';
    expect(asking.querySelector('summary')?.textContent).toContain(asked);
    expect(within(asking).getByText(asked).tagName).toBe('PRE');
    expect(within(asking).queryByText('Empty reply.')).toBeNull();

    const after = entry(region, /^3\. LLM/);
    expect(after.querySelector('summary')?.textContent).not.toContain('asked for tools');
    expect(within(after).getByRole('heading', { name: 'assistant' })).toBeTruthy();
    expect(within(after).getByText(asked)).toBeTruthy();
    expect(within(after).getByRole('heading', { name: 'tool · call_1' })).toBeTruthy();
    expect(within(after).getByText('Notes')).toBeTruthy();
  });

  it('folds a long result behind a disclosure', async () => {
    const long = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`).join('\n');
    serve(attempt({ entries: [tool({ output: long })] }));
    renderPanel();
    const call = entry(await screen.findByRole('region', { name: 'Execution 1, attempt 1' }), /Tool/);
    expect(within(call).queryByText(/line 40/)).toBeNull();
    const more = within(call).getByRole('button', { name: 'Show full result' });
    expect(more.getAttribute('aria-expanded')).toBe('false');
    fireEvent.click(more);
    expect(within(call).getByText(/line 40/)).toBeTruthy();
    const less = within(call).getByRole('button', { name: 'Hide full result' });
    expect(less.getAttribute('aria-expanded')).toBe('true');
  });

  it("shows the step's own calls when the endpoint cannot answer", async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ detail: 'Temporal is unavailable' }), { status: 503 })));
    render(
      <StepPanel runId="run-1" step={{ ...task, transcript: [tool({})] }} definition={null} onClose={() => undefined} />,
    );
    expect(await screen.findByText(/Could not load every attempt \(Temporal is unavailable\)/)).toBeTruthy();
    expect(screen.getByText(/1\. Tool/)).toBeTruthy();
  });
});
