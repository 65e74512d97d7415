/**
 * The workflow definition: the JSON document the designer edits and the API stores.
 * Optional fields stay optional here so that a definition survives a round trip
 * through the canvas unchanged; the editors show the defaults below when a field is absent.
 */

export interface InputSpec {
  name: string;
  description?: string;
  required?: boolean;
  default?: string | null;
}

export interface AgentSpec {
  id: string;
  role: string;
  goal: string;
  backstory: string;
  llm: string;
  tools?: string[];
  max_iter?: number;
}

export interface RetrySpec {
  max_attempts?: number;
  initial_interval_seconds?: number;
  backoff?: number;
}

export type OnFailure = 'pause' | 'fail';
export type OnTimeout = 'approve' | 'reject' | 'fail';
export type OnReject = 'end' | 'retry_upstream';
/** How a step with several dependencies starts: `all` once none is open and one was taken; `any` at the first taken. */
export type Join = 'all' | 'any';

export interface TaskStep {
  id: string;
  type: 'task';
  /** Absent while no agent is connected; the validator then reports the step's agent. */
  agent?: string;
  description: string;
  expected_output: string;
  after?: string[];
  retry?: RetrySpec;
  timeout_seconds?: number;
  on_failure?: OnFailure;
  join?: Join;
  /** A JSON Schema the output must meet, so that conditions and routers can rely on its fields. */
  output_schema?: Record<string, unknown> | null;
}

export interface ApprovalStep {
  id: string;
  type: 'approval';
  after?: string[];
  message: string;
  timeout_seconds?: number;
  on_timeout?: OnTimeout;
  on_reject?: OnReject;
  max_rejections?: number;
  /** Who may decide: emails, and role names (a role admits the roles above it). None: operators and above. */
  approvers?: string[];
  join?: Join;
}

/** Takes the steps in `then` when `if` holds, else those in `else`; the others end `not_taken`. */
export interface ConditionStep {
  id: string;
  type: 'condition';
  after?: string[];
  join?: Join;
  if: string;
  then?: string[];
  else?: string[];
}

export interface Route {
  name: string;
  if: string;
}

/** Tries `routes` in order; the first that holds (else `default`) takes the steps in `targets` under its name. */
export interface RouterStep {
  id: string;
  type: 'router';
  after?: string[];
  join?: Join;
  routes: Route[];
  default: string;
  targets: Record<string, string[]>;
}

/** The steps a map or loop runs each time: tasks, gates and branches between them. */
export type TemplateStep = TaskStep | ApprovalStep | ConditionStep | RouterStep;

/** Runs `steps` once per item of the JSON list `items`, `max_parallel` at a time, in
 * child runs of `chunk_size` items each. */
export interface MapStep {
  id: string;
  type: 'map';
  after?: string[];
  join?: Join;
  items: string;
  steps: TemplateStep[];
  max_parallel?: number;
  chunk_size?: number;
}

/** Runs `steps` until `until` holds or `max_iterations` have run. */
export interface LoopStep {
  id: string;
  type: 'loop';
  after?: string[];
  join?: Join;
  steps: TemplateStep[];
  until: string;
  max_iterations?: number;
}

/** An input computed by an expression over upstream outputs and the run's inputs. */
export interface ExprValue {
  expr: string;
}

/** Runs another saved workflow, pinned to a version when the run compiles, as a child run. */
export interface WorkflowCallStep {
  id: string;
  type: 'workflow';
  after?: string[];
  join?: Join;
  workflow: string;
  version?: number | 'latest';
  /** Templates like descriptions (`"{topic}"`), or `{"expr": …}`. */
  inputs?: Record<string, string | ExprValue>;
}

export type StepSpec = TemplateStep | MapStep | LoopStep | WorkflowCallStep;
export type StepType = StepSpec['type'];

export interface Definition {
  inputs?: InputSpec[];
  agents?: AgentSpec[];
  steps: StepSpec[];
  max_parallel?: number;
  /** Any other top-level field (e.g. notify) is carried through untouched. */
  [key: string]: unknown;
}

/** Saved node positions, keyed by agent or step id. */
export interface Layout {
  nodes: Record<string, { x: number; y: number }>;
}

/** The server's defaults, shown by the editors when a field is absent. */
export const DEFAULTS = {
  maxIter: 5,
  retry: { max_attempts: 3, initial_interval_seconds: 1, backoff: 2 },
  taskTimeout: 600,
  onFailure: 'pause' as OnFailure,
  gateTimeout: 86_400,
  onTimeout: 'reject' as OnTimeout,
  onReject: 'end' as OnReject,
  maxRejections: 3,
  join: 'all' as Join,
  mapMaxParallel: 8,
  // Items run in child runs of this many each, one chunk after another (the API's default).
  mapChunkSize: 100,
  maxIterations: 10,
};
