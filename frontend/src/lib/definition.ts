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
}

export type StepSpec = TaskStep | ApprovalStep;

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
};
