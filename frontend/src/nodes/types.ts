/** The canvas's node and edge types. Node ids are the definition's agent and step ids. */
import type { Edge, Node } from '@xyflow/react';
import type { AgentSpec, ApprovalStep, TaskStep } from '../lib/definition';

/** An agent's fields, less its id (the node id). */
export type AgentData = Omit<AgentSpec, 'id'>;
/** A task's own fields; its id is the node id, its agent and `after` are edges. */
export type TaskData = Omit<TaskStep, 'id' | 'type' | 'agent' | 'after'>;
/** An approval gate's own fields; its id is the node id, its `after` is edges. */
export type ApprovalData = Omit<ApprovalStep, 'id' | 'type' | 'after'>;

export type AgentNode = Node<AgentData, 'agent'>;
export type TaskNode = Node<TaskData, 'task'>;
export type ApprovalNode = Node<ApprovalData, 'approval'>;
export type AppNode = AgentNode | TaskNode | ApprovalNode;
export type NodeKind = AppNode['type'];

/**
 * Edges carry no data: the target handle says what an edge means.
 * `agent` — an assignment (agent → task); `in` — a dependency (step → step).
 */
export type AppEdge = Edge;
export type TargetHandle = 'agent' | 'in';
