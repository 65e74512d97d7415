// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MonthlyBudget } from '../../api/types';
import { signInAs } from '../../test/fixtures';
import { MonthlyBudgetPanel } from './MonthlyBudgetPanel';

let stored: MonthlyBudget;
let puts: unknown[];
/** What a PUT answers instead of storing, when set. */
let refusal: { status: number; body: unknown } | null;

beforeEach(() => {
  signInAs('admin');
  stored = { max_cost_usd_per_month: 10, month_start: '2026-11-01T00:00:00Z', spent_this_month_micros: 2_500_000, spent_this_month_usd: 2.5 };
  puts = [];
  refusal = null;
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      if (url !== '/api/v1/budget') return new Response(JSON.stringify({ detail: 'not found' }), { status: 404 });
      if (init?.method === 'PUT') {
        const body = JSON.parse(String(init.body)) as { max_cost_usd_per_month: number | null };
        puts.push(body);
        if (refusal) return new Response(JSON.stringify(refusal.body), { status: refusal.status });
        stored = { ...stored, ...body };
      }
      return new Response(JSON.stringify(stored), { status: 200 });
    }),
  );
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const spendText = () => screen.getByText(/spent this month/).textContent;
const save = () => fireEvent.click(screen.getByRole('button', { name: 'Save monthly budget' }));

describe('the monthly budget on the usage page', () => {
  it("shows this month's spend against the cap", async () => {
    render(<MonthlyBudgetPanel />);
    const bar = await screen.findByRole('progressbar', { name: 'Spent this month' });
    expect([bar.getAttribute('value'), bar.getAttribute('max')]).toEqual(['2500000', '10000000']);
    expect(spendText()).toBe('$2.50 of $10.00 spent this month (since 2026-11-01, UTC).');
  });

  it('lets an admin change the cap, and remove it with an empty field', async () => {
    render(<MonthlyBudgetPanel />);
    const field = await screen.findByLabelText('Monthly budget (USD)');
    expect((field as HTMLInputElement).value).toBe('10');

    fireEvent.change(field, { target: { value: '4' } });
    save();
    await waitFor(() => expect(spendText()).toBe('$2.50 of $4.00 spent this month (since 2026-11-01, UTC).'));
    expect(screen.getByRole('status').textContent).toBe('Monthly budget saved.');

    fireEvent.change(field, { target: { value: '' } });
    save();
    await waitFor(() => expect(spendText()).toBe('No monthly cap: $2.50 spent this month (since 2026-11-01, UTC).'));
    expect(screen.queryByRole('progressbar')).toBeNull();
    expect(puts).toEqual([{ max_cost_usd_per_month: 4 }, { max_cost_usd_per_month: null }]);
  });

  it("shows the API's refusal: a 422 beside the field, any other as a notice", async () => {
    refusal = {
      status: 422,
      body: { detail: [{ loc: ['body', 'max_cost_usd_per_month'], msg: 'Input should be greater than 0', type: 'greater_than' }] },
    };
    render(<MonthlyBudgetPanel />);
    const field = await screen.findByLabelText('Monthly budget (USD)');
    fireEvent.change(field, { target: { value: '5' } });
    save();
    await waitFor(() => expect(field.getAttribute('aria-invalid')).toBe('true'));
    expect(screen.getByText('Input should be greater than 0')).toBeTruthy();

    refusal = { status: 403, body: { detail: 'admin role required' } };
    save();
    expect((await screen.findByRole('alert')).textContent).toBe('admin role required');
    expect(spendText()).toBe('$2.50 of $10.00 spent this month (since 2026-11-01, UTC).');
  });

  it('refuses a cap of 0 before sending it', async () => {
    render(<MonthlyBudgetPanel />);
    fireEvent.change(await screen.findByLabelText('Monthly budget (USD)'), { target: { value: '0' } });
    save();
    expect(await screen.findByText('Enter an amount above 0')).toBeTruthy();
    expect(puts).toEqual([]);
  });

  it('shows the cap to others but offers only admins to set it', async () => {
    signInAs('editor');
    render(<MonthlyBudgetPanel />);
    await screen.findByRole('progressbar', { name: 'Spent this month' });
    expect(screen.queryByLabelText('Monthly budget (USD)')).toBeNull();
    expect(screen.queryByRole('button', { name: 'Save monthly budget' })).toBeNull();
    expect(screen.getByRole('note').textContent).toBe("Only admins can set the workspace's monthly budget: you are an editor here.");
  });
});
