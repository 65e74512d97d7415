import { beforeEach, describe, expect, it } from 'vitest';
import type { Run, Step } from '../api/types';
import { useRunStore } from './run-store';

// Cast: a step fixture names the fields these tests read; fields the API adds later need not break it.
const step = (id: string, status: Step['status'], extra: Partial<Step> = {}): Step =>
  ({
  id,
  type: 'task',
  status,
  approvers: [],
  attempt: 0,
  execution: 0,
  cost_micros: 0,
  message: null,
  pause_reason: null,
  waiting_since: null,
  output: null,
  error: null,
  started_at: null,
  finished_at: null,
  usage: null,
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
  ...extra,
  }) as Step;

const run: Run = {
  run_id: 'run-1',
  workflow_id: 'wf-1',
  workflow_name: 'Research',
  version: 1,
  status: 'running',
  started_at: '2025-01-01T00:00:00Z',
  closed_at: null,
  steps: [step('research', 'running'), step('review', 'pending', { type: 'approval' })],
  result: null,
  forked_from: null,
  forks: [],
  temporal: { namespace: 'default', workflow_id: 'run-1', run_id: 'r', web_url: 'http://temporal/x' },
  trace_url: null,
  usage: { prompt_tokens: 0, completion_tokens: 0, cached_tokens: 0, total_tokens: 0, llm_calls: 0, cost_micros: 0 },
  cost_micros: 0,
  cost_usd: 0,
};

const state = () => useRunStore.getState();

beforeEach(() => state().reset());

describe('run store', () => {
  it('takes a snapshot whole', () => {
    state().applySnapshot(run);
    expect(state().run).toEqual(run);
  });

  it('replaces a step by id, keeping plan order, and adds an unknown one', () => {
    state().applySnapshot(run);
    state().applyStep(step('research', 'completed', { output: '# Notes', attempt: 1 }));
    state().applyStep(step('extra', 'pending'));
    expect(state().run?.steps.map((s) => [s.id, s.status])).toEqual([
      ['research', 'completed'],
      ['review', 'pending'],
      ['extra', 'pending'],
    ]);
    expect(state().run?.steps[0]?.output).toBe('# Notes');
  });

  it('updates the run status, ignoring events of another run', () => {
    state().applySnapshot(run);
    state().applyRunStatus({ run_id: 'other', status: 'failed' });
    expect(state().run?.status).toBe('running');
    state().applyRunStatus({ run_id: 'run-1', status: 'waiting_for_approval' });
    expect(state().run?.status).toBe('waiting_for_approval');
  });

  it('ignores step and run events before the first snapshot', () => {
    state().applyStep(step('research', 'completed'));
    state().applyRunStatus({ run_id: 'run-1', status: 'completed' });
    expect(state().run).toBeNull();
  });

  it('selects a step and tracks the connection', () => {
    state().selectStep('review');
    state().setConnection('polling');
    expect(state()).toMatchObject({ selectedStepId: 'review', connection: 'polling' });
  });
});
