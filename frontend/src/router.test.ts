import { describe, expect, it } from 'vitest';
import { parseRoute, signInPath } from './router';

describe('parseRoute', () => {
  it('maps each hash to its page', () => {
    expect(parseRoute('')).toEqual({ page: 'workflows' });
    expect(parseRoute('#/')).toEqual({ page: 'workflows' });
    expect(parseRoute('#/workflows')).toEqual({ page: 'workflows' });
    expect(parseRoute('#/workflows/new')).toEqual({ page: 'designer', workflowId: null });
    expect(parseRoute('#/workflows/abc')).toEqual({ page: 'designer', workflowId: 'abc' });
    expect(parseRoute('#/workflows/draft')).toEqual({ page: 'designer', workflowId: null, draft: true });
    expect(parseRoute('#/runs?workflow_id=abc&status=failed')).toEqual({ page: 'runs', workflowId: 'abc', status: 'failed' });
    expect(parseRoute('#/runs/kasal%2F1')).toEqual({ page: 'run', runId: 'kasal/1' });
    expect(parseRoute('#/approvals')).toEqual({ page: 'approvals' });
    expect(parseRoute('#/tools')).toEqual({ page: 'tools' });
    expect(parseRoute('#/models')).toEqual({ page: 'models' });
    expect(parseRoute('#/usage')).toEqual({ page: 'usage' });
    expect(parseRoute('#/nope/x/y')).toEqual({ page: 'not-found', path: '/nope/x/y' });
  });

  it('keeps where to return after signing in, but only within the app', () => {
    const back = signInPath('/runs?workflow_id=abc&status=failed');
    expect(parseRoute(`#${back}`)).toEqual({ page: 'sign-in', next: '/runs?workflow_id=abc&status=failed', linkExpired: false });
    expect(signInPath('/')).toBe('/sign-in');
    expect(signInPath('/sign-in?next=/x')).toBe('/sign-in');
    expect(parseRoute('#/sign-in?next=//evil.example')).toEqual({ page: 'sign-in', next: '/', linkExpired: false });
    expect(parseRoute('#/sign-in?link=expired')).toEqual({ page: 'sign-in', next: '/', linkExpired: true });
    expect(parseRoute('#/tokens')).toEqual({ page: 'tokens' });
    expect(parseRoute('#/members')).toEqual({ page: 'members' });
    expect(parseRoute('#/audit')).toEqual({ page: 'audit' });
  });
});
