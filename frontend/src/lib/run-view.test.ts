import { describe, expect, it } from 'vitest';
import type { Step } from '../api/types';
import { everyType } from '../test/fixtures';
import { definitionToGraph } from './graph';
import { findTemplate, groupAsStep, groupItems, markTakenEdges } from './run-view';

const step = (id: string, extra: Partial<Step> = {}): Step =>
  ({ id, type: 'task', status: 'completed', branch: null, ...extra }) as Step;

describe('markTakenEdges', () => {
  const { edges } = definitionToGraph(everyType);
  const marks = (steps: Record<string, Step>) =>
    Object.fromEntries(
      markTakenEdges(edges, steps)
        .filter((e) => /edge--/.test(e.className ?? ''))
        .map((e) => [e.id, /edge--taken/.test(e.className ?? '') ? 'taken' : 'not taken']),
    );

  it('draws the chosen branch taken and the others not, for conditions and routers', () => {
    const steps = {
      urgent: step('urgent', { type: 'condition', branch: 'else' }),
      route: step('route', { type: 'router', branch: 'refund' }),
      page: step('page', { type: 'approval', status: 'not_taken' }),
      fix_loop: step('fix_loop', { type: 'loop', status: 'not_taken' }),
    };
    expect(marks(steps)).toEqual({
      'urgent:then->page': 'not taken',
      'urgent:else->route': 'taken',
      'route:refund->refunds': 'taken',
      'route:refund->notify': 'taken',
      'route:bug->fix_loop': 'not taken',
      'route:general->notify': 'not taken',
    });
    const label = markTakenEdges(edges, steps).find((e) => e.id === 'route:bug->fix_loop')?.ariaLabel;
    expect(label).toBe('fix_loop runs when route takes bug (not taken)');
  });

  it('leaves edges alone before a branch is chosen, but dims those into a step not taken', () => {
    expect(marks({ urgent: step('urgent', { type: 'condition' }) })).toEqual({});
    expect(marks({ notify: step('notify', { status: 'not_taken' }) })).toEqual({
      'classify->notify': 'not taken',
      'route:refund->notify': 'not taken',
      'route:general->notify': 'not taken',
    });
  });
});

describe('child runs of maps and loops', () => {
  const ids = (list: { id: string }[]) => list.map((s) => s.id);

  it("finds the map or loop a child run carries out from its steps' ids", () => {
    expect(findTemplate(everyType, ['classify', 'urgent'])).toBeNull();
    expect(findTemplate(everyType, ['refund_one-0', 'refund_one-1'])).toMatchObject({ kind: 'map', stepId: 'refunds' });
    const loop = findTemplate(everyType, ['check', 'ok']);
    expect(loop).toMatchObject({ kind: 'loop', stepId: 'fix_loop' });
    expect(ids(loop?.definition.steps ?? [])).toEqual(['check', 'ok']);
    expect(loop?.definition.agents).toEqual(everyType.agents);
    expect(findTemplate(everyType, ['check', 'refund_one-0'])).toBeNull();
  });

  it("groups a map run's items by template step with a count, drawn by the most pressing status", () => {
    const steps = [
      step('fetch-10', { status: 'completed' }),
      step('fetch-2', { status: 'paused' }),
      step('sum-2', { status: 'pending' }),
      step('fetch-9', { status: 'completed' }),
      step('sum-9', { status: 'completed' }),
      step('sum-10', { status: 'not_taken' }),
    ];
    const groups = groupItems(steps, ['fetch', 'sum', 'unused']);
    expect(groups.map((g) => [g.templateId, ids(g.items), g.done, g.status])).toEqual([
      ['fetch', ['fetch-2', 'fetch-9', 'fetch-10'], 2, 'paused'],
      ['sum', ['sum-2', 'sum-9', 'sum-10'], 2, 'pending'],
    ]);
    expect(groupAsStep(groups[0]!)).toMatchObject({ id: 'fetch', status: 'paused', items_total: 3, items_done: 2 });
  });

  it('gives a template step the tokens and cost of all its items', () => {
    const usage = (tokens: number, micros: number) => ({
      prompt_tokens: tokens - 1,
      completion_tokens: 1,
      cached_tokens: 0,
      total_tokens: tokens,
      llm_calls: 1,
      cost_micros: micros,
    });
    const items = [step('fetch-0', { usage: usage(10, 300) }), step('fetch-1', { usage: usage(5, 200) })];
    const [group] = groupItems(items, ['fetch']);
    expect(groupAsStep(group!)).toMatchObject({
      usage: { total_tokens: 15, llm_calls: 2, cost_micros: 500 },
      cost_micros: 500,
      cost_usd: 0.0005,
    });
  });
});
