// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Approval, ApprovalPage } from '../../api/types';
import { ApprovalsPage } from './ApprovalsPage';

const approval = (runId: string): Approval => ({
  run_id: runId,
  workflow_id: null,
  workflow_name: 'brief',
  version: 1,
  step_id: 'review',
  message: `Publish ${runId}?`,
  round: 0,
  waiting_since: null,
  deadline: null,
  approvers: [],
});

/** The inbox in pages: the first without a token, each next by the token before. */
function serve(pages: Record<string, ApprovalPage>) {
  const fetchMock = vi.fn(async (url: string) => {
    const token = new URL(url, 'http://app').searchParams.get('page_token') ?? '';
    const page = pages[token];
    return page
      ? new Response(JSON.stringify(page), { status: 200 })
      : new Response(JSON.stringify({ detail: 'the page token is not one this API gave out' }), { status: 400 });
  });
  vi.stubGlobal('fetch', fetchMock);
  return fetchMock;
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('approvals page', () => {
  it('follows next_page_token with Load more until the last page', async () => {
    const fetchMock = serve({
      '': { items: [approval('run-1')], next_page_token: 'page-2' },
      'page-2': { items: [approval('run-2')], next_page_token: null },
    });
    render(<ApprovalsPage />);
    expect(await screen.findByText('Publish run-1?')).toBeTruthy();
    expect(screen.getByText('1+ waiting')).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Load more approvals' }));
    expect(await screen.findByText('Publish run-2?')).toBeTruthy();
    expect(screen.getByText('Publish run-1?')).toBeTruthy();
    expect(screen.getByText('2 waiting')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Load more approvals' })).toBeNull();
    expect(fetchMock).toHaveBeenLastCalledWith('/api/v1/approvals?page_token=page-2', expect.anything());
  });

  it('offers no Load more when the first page is the last', async () => {
    serve({ '': { items: [approval('run-1')], next_page_token: null } });
    render(<ApprovalsPage />);
    expect(await screen.findByText('1 waiting')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Load more approvals' })).toBeNull();
  });

  it('shows why a page could not be had', async () => {
    serve({ '': { items: [approval('run-1')], next_page_token: 'gone' } });
    render(<ApprovalsPage />);
    fireEvent.click(await screen.findByRole('button', { name: 'Load more approvals' }));
    await waitFor(() => expect(screen.getByText('the page token is not one this API gave out')).toBeTruthy());
    expect(screen.getByText('Publish run-1?')).toBeTruthy();
  });
});
