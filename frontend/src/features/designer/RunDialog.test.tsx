// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RunDialog } from './RunDialog';

let answer: { status: number; body: unknown };
let bodies: unknown[];

beforeEach(() => {
  window.location.hash = '';
  bodies = [];
  answer = { status: 201, body: { run_id: 'run-7' } };
  vi.stubGlobal(
    'fetch',
    vi.fn(async (_url: string, init?: RequestInit) => {
      bodies.push(JSON.parse(String(init?.body)));
      return new Response(JSON.stringify(answer.body), { status: answer.status });
    }),
  );
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const open = () =>
  render(
    <RunDialog
      workflowId="wf-1"
      version={2}
      inputs={[{ name: 'topic', description: 'What to research', required: true, default: 'cats' }]}
      unsaved={false}
      onClose={() => undefined}
    />,
  );
const start = () => fireEvent.click(screen.getByRole('button', { name: 'Start run' }));

describe('the start-run dialog', () => {
  it('sends the budget given with the inputs, and opens the run', async () => {
    open();
    fireEvent.change(screen.getByLabelText('Budget (USD)'), { target: { value: '1.25' } });
    fireEvent.change(screen.getByLabelText('Token budget'), { target: { value: '50000' } });
    start();
    await waitFor(() => expect(window.location.hash).toBe('#/runs/run-7'));
    expect(bodies).toEqual([{ inputs: { topic: 'cats' }, version: 2, budget: { max_cost_usd: 1.25, max_tokens: 50_000 } }]);
  });

  it('sends no budget when none is given, so the definition\'s applies', async () => {
    open();
    start();
    await waitFor(() => expect(window.location.hash).toBe('#/runs/run-7'));
    expect(bodies).toEqual([{ inputs: { topic: 'cats' }, version: 2 }]);
  });

  it('shows a 422 for the cost budget next to its field (a model without a price)', async () => {
    const msg = "model config 'local' has no price, so a cost budget cannot hold: give it prices, or budget tokens (max_tokens) instead";
    answer = { status: 422, body: { detail: [{ loc: ['body', 'budget', 'max_cost_usd'], msg, type: 'value_error' }] } };
    open();
    fireEvent.change(screen.getByLabelText('Budget (USD)'), { target: { value: '1' } });
    start();
    const field = screen.getByLabelText('Budget (USD)');
    await waitFor(() => expect(field.getAttribute('aria-invalid')).toBe('true'));
    const describedBy = field.getAttribute('aria-describedby')!.split(' ');
    expect(describedBy.map((id) => document.getElementById(id)?.textContent)).toContain(msg);
    expect(screen.queryByRole('alert')).toBeNull();
    expect(window.location.hash).toBe('');
    expect(screen.getByRole('button', { name: 'Start run' }).hasAttribute('disabled')).toBe(false);
  });

  it('refuses a token budget that is not a whole number before sending', async () => {
    open();
    fireEvent.change(screen.getByLabelText('Token budget'), { target: { value: '0' } });
    start();
    await waitFor(() => expect(screen.getByLabelText('Token budget').getAttribute('aria-invalid')).toBe('true'));
    expect(screen.getByText('Enter a whole number of at least 1')).toBeTruthy();
    expect(bodies).toEqual([]);
  });
});
