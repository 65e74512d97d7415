/**
 * Definition ↔ graph conversion.
 *
 * Agent nodes are `agents[]`; step nodes are `steps[]` (in node order), one kind per
 * step type. An edge into a task's `agent` handle assigns that agent; an edge into a
 * step's `in` handle is a dependency (the target's `after` lists the source). A
 * dependency that leaves a condition's `then`/`else` handle, or a router's handle named
 * after a route, also puts its target in that branch (`then`, `else`, `targets[name]`).
 * Node ids are the definition ids, so agent and step ids must be distinct from each other.
 * Branch lists come back in edge order: a step's `after` order first, then step order.
 */
import type { Connection } from '@xyflow/react';
import { NODE_CONFIG } from '../nodes/config';
import type {
  AgentNode,
  AppEdge,
  AppNode,
  ApprovalNode,
  ConditionNode,
  LoopNode,
  MapNode,
  NodeKind,
  RouterNode,
  TargetHandle,
  TaskNode,
  WorkflowCallNode,
} from '../nodes/types';
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

/**
 * An edge from `source` to `target`: an assignment into the `agent` handle, or a
 * dependency into `in`, from the source's `branch` handle when it is a branch.
 */
export function makeEdge(source: string, target: string, handle: TargetHandle, branch?: string): AppEdge {
  if (branch !== undefined) {
    return {
      id: `${source}:${branch}->${target}`,
      source,
      target,
      sourceHandle: branch,
      targetHandle: 'in',
      className: 'edge-branch',
      label: branch,
      ariaLabel: `${target} runs when ${source} takes ${branch}`,
    };
  }
  return {
    id: `${source}->${target}`,
    source,
    target,
    sourceHandle: 'out',
    targetHandle: handle,
    // An agent's edges are drawn square, not as curves: an agent reaches every task it
    // does, and while a drag auto-pans a large canvas the software rasteriser redraws
    // every one of those long curves each frame (P7, 300 nodes, back to back: drag frame
    // p95 ~19 -> ~10 ms, every pair lower; straight lines gained little).
    ...(handle === 'agent' ? { type: 'smoothstep' } : {}),
    className: handle === 'agent' ? 'edge-assignment' : 'edge-dependency',
    ariaLabel: handle === 'agent' ? `${source} assigned to ${target}` : `${target} runs after ${source}`,
  };
}

/** The branch an edge leaves by (`then`, `else`, a route's name), or undefined for a plain edge. */
export function edgeBranch(edge: Pick<AppEdge, 'sourceHandle'>): string | undefined {
  return edge.sourceHandle && edge.sourceHandle !== 'out' ? edge.sourceHandle : undefined;
}

/** The branches a step chooses between, by name, with the steps each takes; null for other steps. */
function branchesOf(step: StepSpec): Record<string, string[]> | null {
  if (step.type === 'condition') return { then: step.then ?? [], else: step.else ?? [] };
  if (step.type === 'router') return step.targets;
  return null;
}

/**
 * A router's handles: its routes' names in order, its default, then any other name an
 * edge leaves by (a target list the definition names but no route does), so that nothing
 * drawn is hidden.
 */
export function routerHandles(data: RouterNode['data'], edges: AppEdge[], id: string): string[] {
  const drawn = edges.filter((edge) => edge.source === id).map(edgeBranch);
  const names = [...data.routes.map((route) => route.name), data.default, ...drawn];
  return [...new Set(names.filter((name): name is string => Boolean(name)))];
}

/** A step as a node: its own fields are the data; `after`, its agent and its branches are edges. */
function stepNode(step: StepSpec, at: XY): AppNode {
  switch (step.type) {
    case 'task': {
      const { id, type: _type, agent: _agent, after: _after, ...data } = step;
      return makeNode<TaskNode>('task', id, at, data);
    }
    case 'approval': {
      const { id, type: _type, after: _after, ...data } = step;
      return makeNode<ApprovalNode>('approval', id, at, data);
    }
    case 'condition': {
      const { id, type: _type, after: _after, then: _then, else: _else, ...data } = step;
      return makeNode<ConditionNode>('condition', id, at, data);
    }
    case 'router': {
      const { id, type: _type, after: _after, targets: _targets, ...data } = step;
      return makeNode<RouterNode>('router', id, at, data);
    }
    case 'map': {
      const { id, type: _type, after: _after, ...data } = step;
      return makeNode<MapNode>('map', id, at, data);
    }
    case 'loop': {
      const { id, type: _type, after: _after, ...data } = step;
      return makeNode<LoopNode>('loop', id, at, data);
    }
    case 'workflow': {
      const { id, type: _type, after: _after, ...data } = step;
      return makeNode<WorkflowCallNode>('workflow', id, at, data);
    }
  }
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
  const branches = new Map<string, Record<string, string[]>>();
  for (const step of steps) {
    const chosen = branchesOf(step);
    if (chosen) branches.set(step.id, chosen);
  }
  for (const step of steps) {
    nodes.push(stepNode(step, at(step.id)));
    if (step.type === 'task' && step.agent !== undefined) edges.push(makeEdge(step.agent, step.id, 'agent'));
    for (const dependency of step.after ?? []) {
      const names = Object.entries(branches.get(dependency) ?? {})
        .filter(([, targets]) => targets.includes(step.id))
        .map(([name]) => name);
      if (names.length === 0) edges.push(makeEdge(dependency, step.id, 'in'));
      for (const name of names) edges.push(makeEdge(dependency, step.id, 'in', name));
    }
  }
  // A branch target that does not list its condition or router in `after` still gets
  // its edge (and so, saved again, the `after` the compiler asks for).
  for (const [source, chosen] of branches) {
    for (const [name, targets] of Object.entries(chosen)) {
      for (const target of targets) {
        const edge = makeEdge(source, target, 'in', name);
        if (!edges.some((other) => other.id === edge.id)) edges.push(edge);
      }
    }
  }
  return { nodes, edges, inputs, extras };
}

/** The definition a graph stands for; the inverse of {@link definitionToGraph}. */
export function graphToDefinition({ nodes, edges, inputs, extras }: Graph): Definition {
  // Edges indexed once (in edge order), not filtered per node: 300 nodes × 600 edges adds up.
  const sourcesInto = new Map<string, Set<string>>();
  const targetsOutOf = new Map<string, string[]>();
  for (const edge of edges) {
    if (typeof edge.targetHandle === 'string') {
      const inKey = `${edge.target}\u0000${edge.targetHandle}`;
      const sources = sourcesInto.get(inKey);
      if (sources) sources.add(edge.source);
      else sourcesInto.set(inKey, new Set([edge.source]));
    }
    if (edge.targetHandle === 'in' && typeof edge.sourceHandle === 'string') {
      const outKey = `${edge.source}\u0000${edge.sourceHandle}`;
      const targets = targetsOutOf.get(outKey);
      if (targets) targets.push(edge.target);
      else targetsOutOf.set(outKey, [edge.target]);
    }
  }
  const into = (id: string, handle: TargetHandle) => [...(sourcesInto.get(`${id}\u0000${handle}`) ?? [])];
  const outOf = (id: string, branch: string) => [...(targetsOutOf.get(`${id}\u0000${branch}`) ?? [])];
  const agents: AgentSpec[] = [];
  const steps: StepSpec[] = [];
  for (const node of nodes) {
    const { id } = node;
    const after = into(id, 'in');
    switch (node.type) {
      case 'agent':
        agents.push({ id, ...node.data });
        break;
      case 'task': {
        const [agent] = into(id, 'agent');
        steps.push({ id, type: 'task', ...(agent === undefined ? {} : { agent }), ...node.data, after });
        break;
      }
      case 'condition':
        steps.push({ id, type: 'condition', ...node.data, after, then: outOf(id, 'then'), else: outOf(id, 'else') });
        break;
      case 'router': {
        const names = routerHandles(node.data, edges, id);
        const targets = Object.fromEntries(names.map((name) => [name, outOf(id, name)]));
        steps.push({ id, type: 'router', ...node.data, after, targets });
        break;
      }
      case 'approval':
        steps.push({ id, type: 'approval', ...node.data, after });
        break;
      case 'map':
        steps.push({ id, type: 'map', ...node.data, after });
        break;
      case 'loop':
        steps.push({ id, type: 'loop', ...node.data, after });
        break;
      case 'workflow':
        steps.push({ id, type: 'workflow', ...node.data, after });
        break;
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
