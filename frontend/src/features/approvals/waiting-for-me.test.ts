import { afterEach, describe, expect, it, vi } from 'vitest';
import { approvalsWaitingFor } from './waiting-for-me';

const gate = (runId: string, approvers: string[]) => ({
  run_id: runId,
  workflow_id: null,
  workflow_name: 'w',
  version: 1,
  step_id: 'g',
  message: 'ok?',
  round: 0,
  waiting_since: null,
  deadline: null,
  approvers,
});

const inbox = [gate('run-open', []), gate('run-ann', ['ann@kasal.test']), gate('run-editors', ['editor'])];

afterEach(() => vi.unstubAllGlobals());

describe('approvals waiting for me', () => {
  it('keeps the gates whose approvers admit the user, from the inbox alone', async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ items: inbox, next_page_token: null })));
    vi.stubGlobal('fetch', fetchMock);
    const ids = async (email: string, role: 'viewer' | 'operator' | 'editor') =>
      (await approvalsWaitingFor(email, role)).map((item) => item.run_id);
    expect(await ids('ann@kasal.test', 'viewer')).toEqual(['run-ann']);
    expect(await ids('bob@kasal.test', 'operator')).toEqual(['run-open']);
    expect(await ids('eve@kasal.test', 'editor')).toEqual(['run-open', 'run-editors']);
    expect(fetchMock).toHaveBeenCalledTimes(3); // one inbox page a refresh, no run reads
  });
});
