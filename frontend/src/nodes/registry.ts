/** The one place that knows every node type: its component, its config and how to make one. */
import type { NodeTypes } from '@xyflow/react';
import { DEFAULTS } from '../lib/definition';
import { makeNode } from '../lib/graph';
import type { XY } from '../lib/layout';
import { AgentNodeView } from './agent-node';
import { ApprovalNodeView } from './approval-node';
import { ConditionNodeView } from './condition-node';
import { LoopNodeView } from './loop-node';
import { MapNodeView } from './map-node';
import { RouterNodeView } from './router-node';
import { TaskNodeView } from './task-node';
import type {
  AgentNode,
  AppNode,
  ApprovalNode,
  ConditionNode,
  LoopNode,
  MapNode,
  NodeKind,
  RouterNode,
  TaskNode,
  WorkflowCallNode,
} from './types';
import { WorkflowCallNodeView } from './workflow-node';

export { NODE_CONFIG, NODE_KINDS } from './config';

export const nodeTypes = {
  agent: AgentNodeView,
  task: TaskNodeView,
  approval: ApprovalNodeView,
  condition: ConditionNodeView,
  router: RouterNodeView,
  map: MapNodeView,
  loop: LoopNodeView,
  workflow: WorkflowCallNodeView,
} satisfies NodeTypes;

/** A new node with every field at its default; text fields start empty for the author to fill. */
export function createNodeByType(kind: NodeKind, id: string, position: XY, llm: string): AppNode {
  switch (kind) {
    case 'agent':
      return makeNode<AgentNode>('agent', id, position, {
        role: '',
        goal: '',
        backstory: '',
        llm,
        tools: [],
        max_iter: DEFAULTS.maxIter,
      });
    case 'task':
      return makeNode<TaskNode>('task', id, position, {
        description: '',
        expected_output: '',
        retry: { ...DEFAULTS.retry },
        timeout_seconds: DEFAULTS.taskTimeout,
        on_failure: DEFAULTS.onFailure,
      });
    case 'approval':
      return makeNode<ApprovalNode>('approval', id, position, {
        message: '',
        timeout_seconds: DEFAULTS.gateTimeout,
        on_timeout: DEFAULTS.onTimeout,
        on_reject: DEFAULTS.onReject,
        max_rejections: DEFAULTS.maxRejections,
      });
    case 'condition':
      return makeNode<ConditionNode>('condition', id, position, { if: '' });
    case 'router':
      return makeNode<RouterNode>('router', id, position, { routes: [{ name: 'route_1', if: '' }], default: 'other' });
    case 'map':
      return makeNode<MapNode>('map', id, position, { items: '', steps: [], max_parallel: DEFAULTS.mapMaxParallel });
    case 'loop':
      return makeNode<LoopNode>('loop', id, position, { steps: [], until: '', max_iterations: DEFAULTS.maxIterations });
    case 'workflow':
      return makeNode<WorkflowCallNode>('workflow', id, position, { workflow: '', version: 'latest', inputs: {} });
  }
}
