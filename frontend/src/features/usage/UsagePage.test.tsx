// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { UsageReport, UsageRow } from '../../api/types';
import { signInAs } from '../../test/fixtures';
import { UsagePage } from './UsagePage';

const row = (key: string, name: string, tokens: number, micros: number): UsageRow => ({
  key,
  name,
  prompt_tokens: tokens - 10,
  completion_tokens: 10,
  cached_tokens: 0,
  total_tokens: tokens,
  llm_calls: 2,
  cost_micros: micros,
  cost_usd: micros / 1_000_000,
});

/** What the server would answer for `group_by`: two groups and their total. */
function report(url: URL): UsageReport {
  const groupBy = url.searchParams.get('group_by') as UsageReport['group_by'];
  const items =
    groupBy === 'model'
      ? [row('priced', 'priced', 1_500, 4_200), row('local', 'local', 300, 0)]
      : [row('2026-11-29', '2026-11-29', 1_000, 2_000), row('2026-11-30', '2026-11-30', 800, 2_200)];
  const total = { ...row('total', 'total', 1_800, 4_200), llm_calls: 4 };
  return { from: url.searchParams.get('from')!, to: url.searchParams.get('to')!, group_by: groupBy, items, total };
}

const monthlyBudget = {
  max_cost_usd_per_month: 10,
  month_start: '2026-11-01T00:00:00Z',
  spent_this_month_micros: 2_500_000,
  spent_this_month_usd: 2.5,
};

/** The usage reports asked for, in order (the monthly budget's requests aside). */
let requested: URL[];

beforeEach(() => {
  signInAs('viewer');
  requested = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (path: string) => {
      const url = new URL(path, 'http://kasal.test');
      if (url.pathname === '/api/v1/budget') return new Response(JSON.stringify(monthlyBudget), { status: 200 });
      requested.push(url);
      return new Response(JSON.stringify(report(url)), { status: 200 });
    }),
  );
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const lastRequest = () => requested[requested.length - 1]!;

describe('usage page', () => {
  it('shows the last 30 days by day, their total, and a CSV of the same', async () => {
    render(<UsagePage />);
    const table = await screen.findByRole('table');
    const cells = (r: HTMLElement) => [...r.querySelectorAll('th, td')].map((c) => c.textContent);
    expect(within(table).getAllByRole('row').map(cells)).toEqual([
      ['Day (UTC)', 'Prompt tokens', 'Cached tokens', 'Completion tokens', 'Total tokens', 'LLM calls', 'Cost'],
      ['2026-11-29', '990', '0', '10', '1,000', '2', '$0.0020'],
      ['2026-11-30', '790', '0', '10', '800', '2', '$0.0022'],
    ]);
    expect(screen.getByLabelText('Total').textContent).toMatch(/^1.8K tokens · \$0.0042 · 4 LLM calls/);
    const { searchParams } = lastRequest();
    expect(lastRequest().pathname).toBe('/api/v1/usage');
    const from = new Date(`${searchParams.get('from')}T00:00:00Z`);
    const to = new Date(`${searchParams.get('to')}T00:00:00Z`);
    expect((to.getTime() - from.getTime()) / 86_400_000).toBe(29);
    expect(searchParams.get('group_by')).toBe('day');

    const csv = new URL(screen.getByRole('link', { name: 'Download CSV' }).getAttribute('href')!, 'http://kasal.test');
    expect(csv.pathname).toBe('/api/v1/usage');
    expect(Object.fromEntries(csv.searchParams)).toEqual({
      from: searchParams.get('from'),
      to: searchParams.get('to'),
      group_by: 'day',
      format: 'csv',
    });
  });

  it('groups by model and asks for the span a person picks', async () => {
    render(<UsagePage />);
    await screen.findByRole('table');
    fireEvent.click(screen.getByRole('radio', { name: 'Model' }));
    expect(await screen.findByRole('columnheader', { name: 'Model' })).toBeTruthy();
    expect(screen.getByRole('row', { name: /^priced/ }).textContent).toContain('$0.0042');
    expect(lastRequest().searchParams.get('group_by')).toBe('model');

    fireEvent.change(screen.getByLabelText('From'), { target: { value: '2026-11-01' } });
    fireEvent.change(screen.getByLabelText('To'), { target: { value: '2026-11-15' } });
    await waitFor(() => expect(lastRequest().searchParams.get('to')).toBe('2026-11-15'));
    expect(lastRequest().searchParams.get('from')).toBe('2026-11-01');
    expect(screen.getByRole('link', { name: 'Download CSV' }).getAttribute('href')).toBe(
      '/api/v1/usage?from=2026-11-01&to=2026-11-15&group_by=model&format=csv',
    );
  });

  it('says why the server refused a span', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (path: string) =>
        path === '/api/v1/budget'
          ? new Response(JSON.stringify(monthlyBudget), { status: 200 })
          : new Response(JSON.stringify({ detail: [{ loc: ['query', 'to'], msg: 'must not be before from', type: 'value_error' }] }), { status: 422 }),
      ),
    );
    render(<UsagePage />);
    expect((await screen.findByRole('alert')).textContent).toContain('must not be before from');
  });

  it("shows the workspace's monthly budget above the report", async () => {
    render(<UsagePage />);
    const section = await screen.findByRole('region', { name: 'Monthly budget' });
    expect((await within(section).findByRole('progressbar', { name: 'Spent this month' })).getAttribute('value')).toBe('2500000');
    expect(within(section).getByText(/spent this month/).textContent).toBe('$2.50 of $10.00 spent this month (since 2026-11-01, UTC).');
  });
});
