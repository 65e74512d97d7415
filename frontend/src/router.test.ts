import { describe, expect, it } from 'vitest';
import { parseRoute } from './router';

describe('parseRoute', () => {
  it('maps each hash to its page', () => {
    expect(parseRoute('')).toEqual({ page: 'workflows' });
    expect(parseRoute('#/')).toEqual({ page: 'workflows' });
    expect(parseRoute('#/workflows')).toEqual({ page: 'workflows' });
    expect(parseRoute('#/workflows/new')).toEqual({ page: 'designer', workflowId: null });
    expect(parseRoute('#/workflows/abc')).toEqual({ page: 'designer', workflowId: 'abc' });
    expect(parseRoute('#/runs?workflow_id=abc&status=failed')).toEqual({ page: 'runs', workflowId: 'abc', status: 'failed' });
    expect(parseRoute('#/runs/kasal%2F1')).toEqual({ page: 'run', runId: 'kasal/1' });
    expect(parseRoute('#/approvals')).toEqual({ page: 'approvals' });
    expect(parseRoute('#/tools')).toEqual({ page: 'tools' });
    expect(parseRoute('#/nope/x/y')).toEqual({ page: 'not-found', path: '/nope/x/y' });
  });
});
