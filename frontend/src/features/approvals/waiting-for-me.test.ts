import { afterEach, describe, expect, it, vi } from 'vitest';
import { approvalsWaitingFor } from './waiting-for-me';

const gate = (runId: string, stepId: string) => ({
  run_id: runId,
  workflow_id: null,
  workflow_name: 'w',
  version: 1,
  step_id: stepId,
  message: 'ok?',
  round: 0,
  waiting_since: null,
  deadline: null,
});

const runs: Record<string, { id: string; approvers: string[] }[]> = {
  'run-open': [{ id: 'g', approvers: [] }],
  'run-ann': [{ id: 'g', approvers: ['ann@kasal.test'] }],
  'run-editors': [{ id: 'g', approvers: ['editor'] }],
};

afterEach(() => vi.unstubAllGlobals());

describe('approvals waiting for me', () => {
  it('keeps the gates whose approvers admit the user, reading each run once', async () => {
    const fetchMock = vi.fn(async (url: string) => {
      if (url.startsWith('/api/v1/approvals')) {
        return new Response(JSON.stringify({ items: Object.keys(runs).map((id) => gate(id, 'g')), next_page_token: null }));
      }
      const id = decodeURIComponent(url.replace('/api/v1/runs/', ''));
      return new Response(JSON.stringify({ run_id: id, steps: runs[id] }));
    });
    vi.stubGlobal('fetch', fetchMock);
    const ids = async (email: string, role: 'viewer' | 'operator' | 'editor') =>
      (await approvalsWaitingFor(email, role)).map((item) => item.run_id);
    expect(await ids('ann@kasal.test', 'viewer')).toEqual(['run-ann']);
    expect(await ids('bob@kasal.test', 'operator')).toEqual(['run-open']);
    expect(await ids('eve@kasal.test', 'editor')).toEqual(['run-open', 'run-editors']);
    const runReads = fetchMock.mock.calls.filter(([url]) => url.startsWith('/api/v1/runs/'));
    expect(runReads).toHaveLength(3);
  });
});
