/**
 * Definition ↔ graph conversion.
 *
 * Agent nodes are `agents[]`; task and approval nodes are `steps[]` (in node order).
 * An edge into a task's `agent` handle assigns that agent; an edge into a step's `in`
 * handle is a dependency (the target's `after` lists the source). Node ids are the
 * definition ids, so agent and step ids must be distinct from each other.
 */
import type { Connection } from '@xyflow/react';
import { NODE_CONFIG } from '../nodes/config';
import type { AgentNode, AppEdge, AppNode, ApprovalNode, NodeKind, TargetHandle, TaskNode } from '../nodes/types';
import type { AgentSpec, Definition, InputSpec, Layout, StepSpec } from './definition';
import { autoLayout, type XY } from './layout';

/** Everything the designer edits, as a graph plus the parts that are not nodes. */
export interface Graph {
  nodes: AppNode[];
  edges: AppEdge[];
  inputs: InputSpec[];
  /** Top-level fields other than inputs, agents and steps, carried through untouched. */
  extras: Record<string, unknown>;
}

/** The accessible name React Flow gives a node, e.g. "Task research". */
export function nodeAriaLabel(kind: NodeKind, id: string): string {
  return `${NODE_CONFIG[kind].title} ${id}`;
}

/** A node of the given kind at a position. */
export function makeNode<N extends AppNode>(type: N['type'], id: string, position: XY, data: N['data']): N {
  return { id, type, position, data, ariaLabel: nodeAriaLabel(type, id) } as N;
}

/** An edge from `source` to `target`: an assignment into the `agent` handle or a dependency into `in`. */
export function makeEdge(source: string, target: string, handle: TargetHandle): AppEdge {
  return {
    id: `${source}->${target}`,
    source,
    target,
    sourceHandle: 'out',
    targetHandle: handle,
    className: handle === 'agent' ? 'edge-assignment' : 'edge-dependency',
    ariaLabel: handle === 'agent' ? `${source} assigned to ${target}` : `${target} runs after ${source}`,
  };
}

/**
 * What a connection would mean: an agent to a task is an assignment, a step to a step
 * is a dependency; anything else (to an agent, an agent to a gate, a loop) is refused.
 */
export function connectionKind(nodes: AppNode[], connection: Connection | AppEdge): TargetHandle | null {
  const source = nodes.find((node) => node.id === connection.source);
  const target = nodes.find((node) => node.id === connection.target);
  if (!source || !target || source.id === target.id || target.type === 'agent') return null;
  if (source.type === 'agent') return target.type === 'task' ? 'agent' : null;
  return connection.targetHandle === 'agent' ? null : 'in';
}

/** Build the canvas graph for a definition; nodes without a saved position are laid out. */
export function definitionToGraph(definition: Definition, layout?: Layout | null): Graph {
  const { inputs = [], agents = [], steps, ...extras } = definition;
  const auto = autoLayout(definition);
  const at = (id: string): XY => layout?.nodes[id] ?? auto[id] ?? { x: 0, y: 0 };
  const nodes: AppNode[] = agents.map(({ id, ...data }) => makeNode<AgentNode>('agent', id, at(id), data));
  const edges: AppEdge[] = [];
  for (const step of steps) {
    if (step.type === 'task') {
      const { id, type: _type, agent, after = [], ...data } = step;
      nodes.push(makeNode<TaskNode>('task', id, at(id), data));
      if (agent !== undefined) edges.push(makeEdge(agent, id, 'agent'));
    } else {
      const { id, type: _type, after = [], ...data } = step;
      nodes.push(makeNode<ApprovalNode>('approval', id, at(id), data));
    }
    for (const dependency of step.after ?? []) edges.push(makeEdge(dependency, step.id, 'in'));
  }
  return { nodes, edges, inputs, extras };
}

/** The definition a graph stands for; the inverse of {@link definitionToGraph}. */
export function graphToDefinition({ nodes, edges, inputs, extras }: Graph): Definition {
  const into = (id: string, handle: TargetHandle) =>
    edges.filter((edge) => edge.target === id && edge.targetHandle === handle).map((edge) => edge.source);
  const agents: AgentSpec[] = [];
  const steps: StepSpec[] = [];
  for (const node of nodes) {
    if (node.type === 'agent') {
      agents.push({ id: node.id, ...node.data });
    } else if (node.type === 'task') {
      const [agent] = into(node.id, 'agent');
      steps.push({ id: node.id, type: 'task', ...(agent === undefined ? {} : { agent }), ...node.data, after: into(node.id, 'in') });
    } else {
      steps.push({ id: node.id, type: 'approval', ...node.data, after: into(node.id, 'in') });
    }
  }
  return { ...extras, inputs, agents, steps };
}

/** Node positions, rounded, as saved with a version. */
export function graphToLayout(nodes: AppNode[]): Layout {
  return {
    nodes: Object.fromEntries(
      nodes.map((node) => [node.id, { x: Math.round(node.position.x), y: Math.round(node.position.y) }]),
    ),
  };
}
