/** The canvas's node and edge types. Node ids are the definition's agent and step ids. */
import type { Edge, Node } from '@xyflow/react';
import type {
  AgentSpec,
  ApprovalStep,
  ConditionStep,
  LoopStep,
  MapStep,
  RouterStep,
  TaskStep,
  WorkflowCallStep,
} from '../lib/definition';

/** An agent's fields, less its id (the node id). */
export type AgentData = Omit<AgentSpec, 'id'>;
/** A task's own fields; its id is the node id, its agent and `after` are edges. */
export type TaskData = Omit<TaskStep, 'id' | 'type' | 'agent' | 'after'>;
/** An approval gate's own fields; its id is the node id, its `after` is edges. */
export type ApprovalData = Omit<ApprovalStep, 'id' | 'type' | 'after'>;
/** A condition's expression; its `then` and `else` are edges from its branch handles. */
export type ConditionData = Omit<ConditionStep, 'id' | 'type' | 'after' | 'then' | 'else'>;
/** A router's routes and default; its `targets` are edges from one handle per route name. */
export type RouterData = Omit<RouterStep, 'id' | 'type' | 'after' | 'targets'>;
/** A map's items, parallelism and template steps (edited as JSON). */
export type MapData = Omit<MapStep, 'id' | 'type' | 'after'>;
export type LoopData = Omit<LoopStep, 'id' | 'type' | 'after'>;
export type WorkflowCallData = Omit<WorkflowCallStep, 'id' | 'type' | 'after'>;

export type AgentNode = Node<AgentData, 'agent'>;
export type TaskNode = Node<TaskData, 'task'>;
export type ApprovalNode = Node<ApprovalData, 'approval'>;
export type ConditionNode = Node<ConditionData, 'condition'>;
export type RouterNode = Node<RouterData, 'router'>;
export type MapNode = Node<MapData, 'map'>;
export type LoopNode = Node<LoopData, 'loop'>;
export type WorkflowCallNode = Node<WorkflowCallData, 'workflow'>;
export type AppNode =
  | AgentNode
  | TaskNode
  | ApprovalNode
  | ConditionNode
  | RouterNode
  | MapNode
  | LoopNode
  | WorkflowCallNode;
export type NodeKind = AppNode['type'];
/** Node kinds that are steps (all but agents); a step's `type` is its node kind. */
export type StepKind = Exclude<NodeKind, 'agent'>;

/**
 * Edges carry no data: the handles say what an edge means. Into `agent` — an assignment
 * (agent → task); into `in` — a dependency (step → step). A dependency leaving a
 * condition's `then`/`else` handle or a router's route handle (named after the route)
 * also puts its target in that branch; one leaving `out` is a plain dependency.
 */
export type AppEdge = Edge;
export type TargetHandle = 'agent' | 'in';
