/** The workflow being designed: its graph, inputs, name and the latest validation result. */
import { applyEdgeChanges, applyNodeChanges, type Connection, type EdgeChange, type NodeChange } from '@xyflow/react';
import { create } from 'zustand';
import type { Workflow, WorkflowVersion } from '../api/types';
import type { Definition, InputSpec } from '../lib/definition';
import { connectionKind, definitionToGraph, edgeBranch, makeEdge, nodeAriaLabel } from '../lib/graph';
import { clearSpotFrom, freePosition, type XY } from '../lib/layout';
import { NO_ISSUES, type IssueMap } from '../lib/validation';
import { NODE_CONFIG } from '../nodes/config';
import { createNodeByType } from '../nodes/registry';
import type { AppEdge, AppNode, NodeKind } from '../nodes/types';

export type Validity = 'unknown' | 'checking' | 'valid' | 'invalid';

export interface DesignerState {
  /** Null until the workflow is first saved. */
  workflowId: string | null;
  name: string;
  description: string;
  nodes: AppNode[];
  edges: AppEdge[];
  inputs: InputSpec[];
  extras: Record<string, unknown>;
  /** The version last loaded or saved, and its inputs (what a run will ask for). */
  saved: { version: number; inputs: InputSpec[] } | null;
  dirty: boolean;
  /** The model new agents get. */
  defaultModel: string;
  issues: IssueMap;
  validity: Validity;
}

export interface DesignerActions {
  reset: () => void;
  load: (workflow: Workflow) => void;
  /** Put an older version on the canvas; saving it makes it the newest version. */
  loadVersion: (version: WorkflowVersion) => void;
  /** Put an unsaved definition (a generated draft) on an otherwise new canvas. */
  openDraft: (spec: Definition, description: string) => void;
  setName: (name: string) => void;
  setDescription: (description: string) => void;
  setDefaultModel: (model: string) => void;
  onNodesChange: (changes: NodeChange<AppNode>[]) => void;
  onEdgesChange: (changes: EdgeChange<AppEdge>[]) => void;
  onConnect: (connection: Connection) => void;
  /** Add a node (selected) at `position` or below it if taken, else at a free spot; returns its id. */
  addNode: (kind: NodeKind, position?: XY) => string;
  updateNodeData: <N extends AppNode>(id: string, patch: Partial<N['data']>) => void;
  /** Give a node a new id and rewire its edges; false if the id is empty or taken. */
  renameNode: (id: string, newId: string) => boolean;
  deleteNode: (id: string) => void;
  /** Assign a task's agent (null: none). */
  setAgent: (taskId: string, agentId: string | null) => void;
  /** Make `stepId` wait for `dependencyId`, or stop waiting for it (by any branch). */
  toggleDependency: (stepId: string, dependencyId: string) => void;
  /** Put `targetId` in (or take it out of) the `branch` of condition or router `sourceId`; it then runs after it. */
  toggleBranch: (sourceId: string, branch: string, targetId: string) => void;
  /** A router's route was renamed: its edges follow, unless `to` is a branch of its own already. */
  renameBranch: (sourceId: string, from: string, to: string) => void;
  /** A route went: its edges go too, unless `keep` still names it (the default, another route). */
  dropBranch: (sourceId: string, name: string, keep: string[]) => void;
  addInput: () => void;
  updateInput: (index: number, patch: Partial<InputSpec>) => void;
  removeInput: (index: number) => void;
  setValidation: (validity: Validity, issues?: IssueMap) => void;
  markSaved: (workflow: Workflow) => void;
}

const initialState: DesignerState = {
  workflowId: null,
  name: '',
  description: '',
  nodes: [],
  edges: [],
  inputs: [],
  extras: {},
  saved: null,
  dirty: false,
  defaultModel: 'local',
  issues: NO_ISSUES,
  validity: 'unknown',
};

/** The smallest `<prefix>_<n>` no node uses yet. */
function nextId(nodes: AppNode[], kind: NodeKind): string {
  const taken = new Set(nodes.map((node) => node.id));
  let n = 1;
  while (taken.has(`${NODE_CONFIG[kind].idPrefix}_${n}`)) n += 1;
  return `${NODE_CONFIG[kind].idPrefix}_${n}`;
}

/** Changes that alter the workflow (not just what is selected or measured). */
const EDITING = new Set(['position', 'add', 'remove', 'replace']);

export const useDesigner = create<DesignerState & DesignerActions>()((set, get) => ({
  ...initialState,

  reset: () => set({ ...initialState, defaultModel: get().defaultModel }),

  load: (workflow) =>
    set({
      ...initialState,
      defaultModel: get().defaultModel,
      ...definitionToGraph(workflow.spec, workflow.layout),
      workflowId: workflow.id,
      name: workflow.name,
      description: workflow.description,
      saved: { version: workflow.version, inputs: workflow.spec.inputs ?? [] },
    }),

  loadVersion: (version) =>
    set({ ...definitionToGraph(version.spec, version.layout), issues: NO_ISSUES, dirty: true }),

  openDraft: (spec, description) =>
    set({
      ...initialState,
      defaultModel: get().defaultModel,
      ...definitionToGraph(spec),
      description,
      dirty: true,
    }),

  setName: (name) => set({ name, dirty: true }),
  setDescription: (description) => set({ description, dirty: true }),
  setDefaultModel: (defaultModel) => set({ defaultModel }),

  onNodesChange: (changes) =>
    set((state) => ({
      nodes: applyNodeChanges(changes, state.nodes),
      dirty: state.dirty || changes.some((change) => EDITING.has(change.type)),
    })),

  onEdgesChange: (changes) =>
    set((state) => ({
      edges: applyEdgeChanges(changes, state.edges),
      dirty: state.dirty || changes.some((change) => EDITING.has(change.type)),
    })),

  onConnect: (connection) => {
    const { nodes, edges } = get();
    const handle = connectionKind(nodes, connection);
    if (!handle) return;
    const branch = handle === 'in' ? edgeBranch(connection) : undefined;
    const edge = makeEdge(connection.source, connection.target, handle, branch);
    if (edges.some((existing) => existing.id === edge.id)) return;
    // A task has exactly one agent: a new assignment replaces the old one.
    const kept =
      handle === 'agent'
        ? edges.filter((existing) => !(existing.target === edge.target && existing.targetHandle === 'agent'))
        : edges;
    set({ edges: [...kept, edge], dirty: true });
  },

  addNode: (kind, position) => {
    const { nodes, defaultModel } = get();
    const id = nextId(nodes, kind);
    const taken = nodes.map((node) => node.position);
    // A node dropped onto another slides down clear of it, so neither hides the other.
    const at = position ? clearSpotFrom(taken, position) : freePosition(taken, kind);
    const node = { ...createNodeByType(kind, id, at, defaultModel), selected: true };
    set({ nodes: [...nodes.map((other) => (other.selected ? { ...other, selected: false } : other)), node], dirty: true });
    return id;
  },

  updateNodeData: (id, patch) =>
    set((state) => ({
      nodes: state.nodes.map((node) => (node.id === id ? ({ ...node, data: { ...node.data, ...patch } } as AppNode) : node)),
      dirty: true,
    })),

  renameNode: (id, newId) => {
    const { nodes, edges, issues } = get();
    if (newId === id) return true;
    if (!newId || nodes.some((node) => node.id === newId)) return false;
    const rename = (other: string) => (other === id ? newId : other);
    const { [id]: moved, ...otherIssues } = issues.nodes;
    set({
      nodes: nodes.map((node) =>
        node.id === id ? { ...node, id: newId, ariaLabel: nodeAriaLabel(node.type, newId) } : node,
      ),
      edges: edges.map((edge) =>
        edge.source === id || edge.target === id
          ? makeEdge(rename(edge.source), rename(edge.target), edge.targetHandle === 'agent' ? 'agent' : 'in', edgeBranch(edge))
          : edge,
      ),
      issues: { ...issues, nodes: moved ? { ...otherIssues, [newId]: moved } : otherIssues },
      dirty: true,
    });
    return true;
  },

  deleteNode: (id) =>
    set((state) => ({
      nodes: state.nodes.filter((node) => node.id !== id),
      edges: state.edges.filter((edge) => edge.source !== id && edge.target !== id),
      dirty: true,
    })),

  setAgent: (taskId, agentId) => {
    const edges = get().edges.filter((edge) => !(edge.target === taskId && edge.targetHandle === 'agent'));
    set({ edges: agentId ? [...edges, makeEdge(agentId, taskId, 'agent')] : edges, dirty: true });
  },

  toggleDependency: (stepId, dependencyId) => {
    const { edges } = get();
    const linking = (edge: AppEdge) => edge.source === dependencyId && edge.target === stepId && edge.targetHandle === 'in';
    const exists = edges.some(linking);
    set({
      edges: exists ? edges.filter((edge) => !linking(edge)) : [...edges, makeEdge(dependencyId, stepId, 'in')],
      dirty: true,
    });
  },

  toggleBranch: (sourceId, branch, targetId) => {
    const { edges } = get();
    const edge = makeEdge(sourceId, targetId, 'in', branch);
    const exists = edges.some((other) => other.id === edge.id);
    set({ edges: exists ? edges.filter((other) => other.id !== edge.id) : [...edges, edge], dirty: true });
  },

  renameBranch: (sourceId, from, to) => {
    const { edges } = get();
    const taken = edges.some((edge) => edge.source === sourceId && edgeBranch(edge) === to);
    if (from === to || !to || taken) return;
    set({
      edges: edges.map((edge) =>
        edge.source === sourceId && edgeBranch(edge) === from ? makeEdge(sourceId, edge.target, 'in', to) : edge,
      ),
      dirty: true,
    });
  },

  dropBranch: (sourceId, name, keep) => {
    if (keep.includes(name)) return;
    set((state) => ({
      edges: state.edges.filter((edge) => !(edge.source === sourceId && edgeBranch(edge) === name)),
      dirty: true,
    }));
  },

  addInput: () =>
    set((state) => ({
      inputs: [...state.inputs, { name: '', description: '', required: true, default: null }],
      dirty: true,
    })),

  updateInput: (index, patch) =>
    set((state) => ({
      inputs: state.inputs.map((input, i) => (i === index ? { ...input, ...patch } : input)),
      dirty: true,
    })),

  removeInput: (index) =>
    set((state) => ({ inputs: state.inputs.filter((_, i) => i !== index), dirty: true })),

  setValidation: (validity, issues) => set(issues ? { validity, issues } : { validity }),

  markSaved: (workflow) =>
    set({
      workflowId: workflow.id,
      name: workflow.name,
      saved: { version: workflow.version, inputs: workflow.spec.inputs ?? [] },
      dirty: false,
    }),
}));
