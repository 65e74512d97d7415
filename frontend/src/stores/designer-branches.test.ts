import { beforeEach, describe, expect, it } from 'vitest';
import { graphToDefinition } from '../lib/graph';
import { useDesigner } from './designer-store';

const state = () => useDesigner.getState();
const spec = () => graphToDefinition(state());
const step = (id: string) => spec().steps.find((s) => s.id === id);

beforeEach(() => {
  state().reset();
  for (const kind of ['condition', 'router', 'task', 'task'] as const) state().addNode(kind);
});

describe('designer store: branches', () => {
  it('drawing from a condition\'s then or else handle puts the step in that branch and the condition in its after', () => {
    state().onConnect({ source: 'condition_1', sourceHandle: 'then', target: 'task_1', targetHandle: 'in' });
    state().onConnect({ source: 'condition_1', sourceHandle: 'else', target: 'task_2', targetHandle: 'in' });
    expect(step('condition_1')).toMatchObject({ then: ['task_1'], else: ['task_2'] });
    expect(step('task_1')).toMatchObject({ after: ['condition_1'] });
    expect(step('task_2')).toMatchObject({ after: ['condition_1'] });
  });

  it('drawing from a route\'s handle adds the step to that route\'s targets', () => {
    state().onConnect({ source: 'router_1', sourceHandle: 'route_1', target: 'task_1', targetHandle: 'in' });
    state().onConnect({ source: 'router_1', sourceHandle: 'other', target: 'task_2', targetHandle: 'in' });
    expect(step('router_1')).toMatchObject({ routes: [{ name: 'route_1' }], default: 'other', targets: { route_1: ['task_1'], other: ['task_2'] } });
  });

  it('a step in both branches runs after the condition once; unticking "runs after" drops both', () => {
    state().toggleBranch('condition_1', 'then', 'task_1');
    state().toggleBranch('condition_1', 'else', 'task_1');
    expect(step('task_1')).toMatchObject({ after: ['condition_1'] });
    state().toggleDependency('task_1', 'condition_1');
    expect(step('task_1')).toMatchObject({ after: [] });
    expect(step('condition_1')).toMatchObject({ then: [], else: [] });
  });

  it('renaming a node keeps its branch edges; renaming a route moves its targets', () => {
    state().toggleBranch('router_1', 'route_1', 'task_1');
    expect(state().renameNode('task_1', 'refund_it')).toBe(true);
    expect(step('router_1')).toMatchObject({ targets: { route_1: ['refund_it'] } });
    state().renameBranch('router_1', 'route_1', 'refund');
    state().updateNodeData('router_1', { routes: [{ name: 'refund', if: 'true' }] });
    expect(step('router_1')).toMatchObject({ targets: { refund: ['refund_it'], other: [] } });
    expect(JSON.stringify(step('router_1'))).not.toContain('route_1');
  });

  it('a route that goes takes its edges along, unless the default still names it', () => {
    state().toggleBranch('router_1', 'route_1', 'task_1');
    state().dropBranch('router_1', 'route_1', ['route_1']);
    expect(step('task_1')).toMatchObject({ after: ['router_1'] });
    state().dropBranch('router_1', 'route_1', []);
    expect(step('task_1')).toMatchObject({ after: [] });
  });
});
