import { describe, expect, it } from 'vitest';
import type { Step } from '../api/types';
import { everyType } from '../test/fixtures';
import { definitionToGraph } from './graph';
import { groupSteps, markTakenEdges } from './run-view';

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

describe('groupSteps', () => {
  it('folds the steps of a map\'s items and a loop\'s iterations under it', () => {
    const steps = [
      step('fanout', { type: 'map' }),
      step('fanout[0].fetch'),
      step('fanout_two'),
      step('retry', { type: 'loop' }),
      step('fanout[1].fetch'),
      step('retry.2.check'),
    ];
    expect(groupSteps(steps).map(({ step: s, members }) => [s.id, members.map((m) => m.id)])).toEqual([
      ['fanout', ['fanout[0].fetch', 'fanout[1].fetch']],
      ['fanout_two', []],
      ['retry', ['retry.2.check']],
    ]);
  });
});
