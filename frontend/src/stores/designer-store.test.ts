import { beforeEach, describe, expect, it } from 'vitest';
import type { Workflow } from '../api/types';
import { graphToDefinition } from '../lib/graph';
import { NODE_HEIGHT } from '../lib/layout';
import { definition, layout } from '../test/fixtures';
import { useDesigner } from './designer-store';

const state = () => useDesigner.getState();
const edgeList = () => state().edges.map((e) => `${e.source}->${e.target}:${e.targetHandle}`);

const workflow: Workflow = {
  id: 'wf-1',
  name: 'Research',
  description: '',
  version: 2,
  spec: definition,
  layout,
  created_at: '2025-01-01T00:00:00Z',
  updated_at: '2025-01-01T00:00:00Z',
};

beforeEach(() => state().reset());

describe('designer store', () => {
  it('adds nodes with fresh ids at free positions, selecting the new one', () => {
    state().setDefaultModel('gpt');
    const agent = state().addNode('agent');
    const first = state().addNode('task');
    const second = state().addNode('task');
    const gate = state().addNode('approval', { x: 2000, y: 20 });
    expect([agent, first, second, gate]).toEqual(['agent_1', 'task_1', 'task_2', 'gate_1']);
    const [a, t1, t2, g] = state().nodes;
    expect(a?.type === 'agent' && a.data.llm).toBe('gpt');
    expect(t1?.position).not.toEqual(t2?.position);
    expect(g?.position).toEqual({ x: 2000, y: 20 });
    expect(state().nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(['gate_1']);
    expect(state().dirty).toBe(true);
  });

  it('slides a node dropped onto another down until it is clear', () => {
    const agent = state().addNode('agent');
    const dropped = state().addNode('task', { x: 30, y: 10 }); // on top of the agent at 0,0
    const [a, t] = state().nodes;
    expect([agent, dropped]).toEqual(['agent_1', 'task_1']);
    expect(t?.position.x).toBe(30);
    expect(t!.position.y).toBeGreaterThanOrEqual(a!.position.y + NODE_HEIGHT);
  });

  it('connects an agent to a task (one agent per task) and steps to steps; refuses the rest', () => {
    state().addNode('agent');
    state().addNode('agent');
    state().addNode('task');
    state().addNode('approval');
    const connect = (source: string, target: string, targetHandle = 'in') =>
      state().onConnect({ source, target, sourceHandle: 'out', targetHandle });
    connect('agent_1', 'task_1', 'agent');
    connect('task_1', 'gate_1');
    connect('task_1', 'gate_1'); // twice is once
    connect('agent_1', 'gate_1'); // agents do not run gates
    connect('gate_1', 'agent_2'); // nothing goes into an agent
    expect(edgeList()).toEqual(['agent_1->task_1:agent', 'task_1->gate_1:in']);
    connect('agent_2', 'task_1', 'agent');
    expect(edgeList()).toEqual(['task_1->gate_1:in', 'agent_2->task_1:agent']);
    const spec = graphToDefinition(state());
    expect(spec.steps).toMatchObject([
      { id: 'task_1', agent: 'agent_2', after: [] },
      { id: 'gate_1', after: ['task_1'] },
    ]);
  });

  it('renames a node and rewires every reference to it', () => {
    state().load(workflow);
    expect(state().renameNode('research', 'dig')).toBe(true);
    expect(state().nodes.map((n) => n.id)).toContain('dig');
    expect(state().nodes.find((n) => n.id === 'dig')?.ariaLabel).toBe('Task dig');
    expect(state().renameNode('researcher', 'digger')).toBe(true);
    const spec = graphToDefinition(state());
    expect(spec.steps.map((s) => [s.id, s.type === 'task' ? s.agent : null, s.after])).toEqual([
      ['dig', 'digger', []],
      ['review', null, ['dig']],
      ['publish', 'writer', ['dig', 'review']],
    ]);
    expect(new Set(state().edges.map((e) => e.id)).size).toBe(state().edges.length);
  });

  it('refuses an empty id or one another node has', () => {
    state().load(workflow);
    expect(state().renameNode('research', '')).toBe(false);
    expect(state().renameNode('research', 'writer')).toBe(false);
    expect(state().nodes.map((n) => n.id)).toContain('research');
  });

  it('deletes a node with its edges', () => {
    state().load(workflow);
    state().deleteNode('research');
    expect(state().nodes.map((n) => n.id)).not.toContain('research');
    expect(edgeList()).toEqual(['writer->publish:agent', 'review->publish:in']);
  });

  it('edits node data, assignments, dependencies and inputs', () => {
    state().load(workflow);
    state().updateNodeData('review', { message: 'Ship it?' });
    state().setAgent('research', 'writer');
    state().toggleDependency('publish', 'review');
    state().addInput();
    state().updateInput(1, { name: 'tone', required: false });
    state().removeInput(0);
    const spec = graphToDefinition(state());
    expect(spec.steps[0]).toMatchObject({ id: 'research', agent: 'writer' });
    expect(spec.steps[1]).toMatchObject({ id: 'review', message: 'Ship it?' });
    expect(spec.steps[2]).toMatchObject({ id: 'publish', after: ['research'] });
    expect(spec.inputs).toEqual([{ name: 'tone', description: '', required: false, default: null }]);
  });

  it('loads a workflow unchanged and marks it saved', () => {
    state().load(workflow);
    expect(graphToDefinition(state())).toEqual(definition);
    expect(state()).toMatchObject({ workflowId: 'wf-1', name: 'Research', dirty: false, saved: { version: 2 } });
    state().onNodesChange([{ type: 'select', id: 'research', selected: true }]);
    expect(state().dirty).toBe(false);
    state().onNodesChange([{ type: 'position', id: 'research', position: { x: 1, y: 2 } }]);
    expect(state().dirty).toBe(true);
    state().onEdgesChange([{ type: 'remove', id: 'research->review' }]);
    expect(edgeList()).not.toContain('research->review:in');
  });
});
