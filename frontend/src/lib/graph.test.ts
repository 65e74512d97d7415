import { describe, expect, it } from 'vitest';
import { definition, everyType, layout } from '../test/fixtures';
import { connectionKind, definitionToGraph, graphToDefinition, graphToLayout } from './graph';

describe('definition ↔ graph', () => {
  it('makes a node per agent and step, and an edge per assignment and dependency', () => {
    const graph = definitionToGraph(definition, layout);
    expect(graph.nodes.map((n) => [n.type, n.id])).toEqual([
      ['agent', 'researcher'],
      ['agent', 'writer'],
      ['task', 'research'],
      ['approval', 'review'],
      ['task', 'publish'],
    ]);
    expect(graph.edges.map((e) => [e.source, e.target, e.targetHandle])).toEqual([
      ['researcher', 'research', 'agent'],
      ['research', 'review', 'in'],
      ['writer', 'publish', 'agent'],
      ['research', 'publish', 'in'],
      ['review', 'publish', 'in'],
    ]);
    expect(graph.nodes.find((n) => n.id === 'review')?.position).toEqual({ x: 320, y: 200 });
    expect(graph.nodes[0]?.ariaLabel).toBe('Agent researcher');
  });

  it('round-trips the definition (including fields it does not edit) and the layout', () => {
    const graph = definitionToGraph(definition, layout);
    expect(graphToDefinition(graph)).toEqual(definition);
    expect(graphToLayout(graph.nodes)).toEqual(layout);
  });

  it('lays out nodes the layout does not place: steps in rows by depth, agents on the left', () => {
    const graph = definitionToGraph(definition, { nodes: { researcher: { x: 5, y: 5 } } });
    const at = Object.fromEntries(graph.nodes.map((n) => [n.id, n.position]));
    expect(at.researcher).toEqual({ x: 5, y: 5 });
    expect(at.research!.y).toBeLessThan(at.review!.y);
    expect(at.review!.y).toBeLessThan(at.publish!.y);
    expect(at.writer).toEqual({ x: 0, y: at.publish!.y });
    expect(at.writer!.x).toBeLessThan(at.publish!.x);
  });

  it('leaves out the agent of a task that has none', () => {
    const graph = definitionToGraph(definition, layout);
    const edges = graph.edges.filter((e) => e.target !== 'publish' || e.targetHandle !== 'agent');
    const publish = graphToDefinition({ ...graph, edges }).steps[2];
    expect(publish).not.toHaveProperty('agent');
  });
});

describe('connectionKind', () => {
  const { nodes } = definitionToGraph(definition, layout);
  const connect = (source: string, target: string, targetHandle: string | null = 'in') =>
    connectionKind(nodes, { source, target, sourceHandle: 'out', targetHandle });

  it('assigns an agent to a task, whichever handle it lands on', () => {
    expect(connect('writer', 'research', 'agent')).toBe('agent');
    expect(connect('writer', 'research', 'in')).toBe('agent');
  });

  it('makes a step depend on a step', () => {
    expect(connect('research', 'publish')).toBe('in');
    expect(connect('review', 'publish')).toBe('in');
  });

  it('refuses anything else', () => {
    expect(connect('writer', 'review')).toBeNull(); // an agent to a gate
    expect(connect('research', 'writer')).toBeNull(); // into an agent
    expect(connect('research', 'research')).toBeNull(); // a loop
    expect(connect('research', 'publish', 'agent')).toBeNull(); // a step into the agent handle
    expect(connect('ghost', 'publish')).toBeNull();
  });
});

describe('definition ↔ graph with every step type', () => {
  it('round-trips conditions, routers, maps, loops and sub-workflows', () => {
    const graph = definitionToGraph(everyType);
    expect(graph.nodes.map((n) => n.type)).toEqual(['agent', 'task', 'condition', 'approval', 'router', 'map', 'loop', 'workflow']);
    expect(graphToDefinition(graph)).toEqual(everyType);
  });

  it('draws each branch as an edge from its named handle into the step it takes', () => {
    const { edges } = definitionToGraph(everyType);
    const from = (source: string) =>
      edges.filter((e) => e.source === source).map((e) => [e.sourceHandle, e.target, e.targetHandle]);
    expect(from('urgent')).toEqual([
      ['then', 'page', 'in'],
      ['else', 'route', 'in'],
    ]);
    expect(from('route')).toEqual([
      ['refund', 'refunds', 'in'],
      ['bug', 'fix_loop', 'in'],
      ['refund', 'notify', 'in'],
      ['general', 'notify', 'in'],
    ]);
    expect(from('classify')).toContainEqual(['out', 'notify', 'in']);
    expect(edges.find((e) => e.id === 'route:general->notify')?.ariaLabel).toBe('notify runs when route takes general');
  });

  it('adds a branch target the condition to its after, as the compiler asks', () => {
    const spec = {
      steps: [
        { id: 'c', type: 'condition' as const, if: 'true', then: ['a'], else: [] },
        { id: 'a', type: 'task' as const, description: 'A', expected_output: 'A' },
      ],
    };
    expect(graphToDefinition(definitionToGraph(spec)).steps[1]).toMatchObject({ id: 'a', after: ['c'] });
  });

  it('keeps a target list no route names, so its error can still be shown', () => {
    const spec = {
      steps: [
        { id: 'r', type: 'router' as const, after: [], routes: [{ name: 'a', if: 'true' }], default: 'b', targets: { a: [], b: [], typo: ['x'] } },
        { id: 'x', type: 'task' as const, description: 'X', expected_output: 'X', after: ['r'] },
      ],
    };
    expect(graphToDefinition(definitionToGraph(spec))).toEqual({ ...spec, inputs: [], agents: [] });
  });
});
