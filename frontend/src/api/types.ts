/** Bodies of the Kasal HTTP API (`/api/v1`), as the server sends them. */
import type { Definition, Layout } from '../lib/definition';

export const STEP_STATUSES = [
  'pending',
  'running',
  'waiting',
  'paused',
  'completed',
  'approved',
  'rejected',
  'skipped',
  'failed',
  'cancelled',
] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const RUN_STATUSES = [
  'running',
  'waiting_for_approval',
  'needs_attention',
  'completed',
  'rejected',
  'failed',
  'cancelled',
  'terminated',
  'timed_out',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** One validation problem; `loc` is counted from the definition's root. */
export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
}

export interface WorkflowSummary {
  id: string;
  name: string;
  description: string;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface Workflow extends WorkflowSummary {
  spec: Definition;
  layout: Layout | null;
}

export interface WorkflowVersion {
  workflow_id: string;
  version: number;
  spec: Definition;
  layout: Layout | null;
  created_at: string;
}

export interface ValidateResult {
  valid: true;
  steps: string[];
  inputs: string[];
}

export interface ModelConfig {
  name: string;
  model: string;
  api_base: string | null;
  has_api_key: boolean;
  temperature: number | null;
  max_tokens: number | null;
  params: Record<string, unknown>;
}

export interface TemporalLink {
  namespace: string;
  workflow_id: string;
  run_id: string | null;
  web_url: string;
}

export interface RunCreated {
  run_id: string;
  workflow_id: string;
  version: number;
  status: RunStatus;
  temporal: TemporalLink;
}

export interface RunSummary {
  run_id: string;
  workflow_id: string | null;
  workflow_name: string;
  version: number;
  status: RunStatus;
  started_at: string | null;
  closed_at: string | null;
  temporal: TemporalLink;
}

export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  llm_calls: number;
}

export interface LlmCall {
  kind: 'llm';
  model: string;
  messages: { role: string; content: string }[];
  reply: string;
  usage: TokenUsage | null;
  latency_ms: number;
  started_at: string;
}

export interface ToolCall {
  kind: 'tool';
  tool: string;
  input: unknown;
  output: unknown;
  latency_ms: number;
  started_at: string;
}

export type TranscriptEntry = LlmCall | ToolCall;

export interface Decision {
  step_id: string;
  decision: 'approve' | 'reject';
  comment: string;
  actor: string;
  round: number;
  decided_at: string;
}

export interface Step {
  id: string;
  type: string;
  status: StepStatus;
  attempt: number;
  output: string | null;
  error: string | null;
  started_at: string | null;
  finished_at: string | null;
  usage: TokenUsage | null;
  transcript: TranscriptEntry[];
  round: number;
  deadline: string | null;
  decisions: Decision[];
  log: string[];
}

export interface Run extends RunSummary {
  steps: Step[];
  result: unknown;
}

export interface Approval {
  run_id: string;
  workflow_id: string | null;
  workflow_name: string;
  step_id: string;
  message: string;
  waiting_since: string | null;
  deadline: string | null;
  round: number;
}
