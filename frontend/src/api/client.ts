/** A typed client for the Kasal API. Every error body is `{"detail": ...}`. */
import type { Definition, Layout } from '../lib/definition';
import type {
  ApprovalPage,
  CancelAccepted,
  HttpTool,
  HttpToolCreate,
  HttpToolUpdate,
  McpProbeResult,
  McpServer,
  McpServerCreate,
  McpServerUpdate,
  ModelConfig,
  Run,
  RunCreated,
  RunPage,
  RunStatus,
  Step,
  StepTranscript,
  ToolCatalogue,
  ToolKind,
  ValidateResult,
  ValidationIssue,
  Workflow,
  WorkflowPage,
  WorkflowVersion,
} from './types';

const API_BASE = '/api/v1';

/** Who the console reports as the actor of a decision, retry or skip. */
const ACTOR = 'web';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
  ) {
    super(typeof detail === 'string' ? detail : `Request failed (${status})`);
  }

  /** The `{loc, msg, type}` list of a 422, or an empty list for any other error. */
  get issues(): ValidationIssue[] {
    return Array.isArray(this.detail) ? (this.detail as ValidationIssue[]) : [];
  }
}

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const response = await fetch(API_BASE + path, {
    method,
    signal,
    headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return undefined as T;
  const payload: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const detail = payload && typeof payload === 'object' && 'detail' in payload ? payload.detail : null;
    throw new ApiError(response.status, detail ?? response.statusText);
  }
  return payload as T;
}

function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export interface WorkflowWrite {
  name: string;
  description: string;
  spec: Definition;
  layout: Layout;
}

export const api = {
  listWorkflows: (params: { name?: string; limit?: number; offset?: number } = {}) =>
    request<WorkflowPage>('GET', `/workflows${query(params)}`),
  getWorkflow: (id: string) => request<Workflow>('GET', `/workflows/${id}`),
  createWorkflow: (body: WorkflowWrite) => request<Workflow>('POST', '/workflows', body),
  updateWorkflow: (id: string, body: WorkflowWrite) => request<Workflow>('PUT', `/workflows/${id}`, body),
  deleteWorkflow: (id: string) => request<void>('DELETE', `/workflows/${id}`),
  listVersions: (id: string) => request<WorkflowVersion[]>('GET', `/workflows/${id}/versions`),
  validate: (spec: Definition, signal?: AbortSignal) =>
    request<ValidateResult>('POST', '/workflows/validate', { spec }, signal),
  listModels: () => request<ModelConfig[]>('GET', '/models'),

  /** Every tool agents may name: built-ins, HTTP tools, and tested MCP servers' tools. */
  listTools: (kind?: ToolKind) => request<ToolCatalogue>('GET', `/tools${query({ kind })}`),
  getHttpTool: (name: string) => request<HttpTool>('GET', `/tools/${encodeURIComponent(name)}`),
  createHttpTool: (body: HttpToolCreate) => request<HttpTool>('POST', '/tools', body),
  updateHttpTool: (name: string, body: HttpToolUpdate) =>
    request<HttpTool>('PUT', `/tools/${encodeURIComponent(name)}`, body),
  deleteHttpTool: (name: string) => request<void>('DELETE', `/tools/${encodeURIComponent(name)}`),
  listMcpServers: () => request<McpServer[]>('GET', '/mcp-servers'),
  createMcpServer: (body: McpServerCreate) => request<McpServer>('POST', '/mcp-servers', body),
  updateMcpServer: (name: string, body: McpServerUpdate) =>
    request<McpServer>('PUT', `/mcp-servers/${encodeURIComponent(name)}`, body),
  deleteMcpServer: (name: string) => request<void>('DELETE', `/mcp-servers/${encodeURIComponent(name)}`),
  /** A worker connects and lists the server's tools; `ok: false` says why it could not. */
  testMcpServer: (name: string) => request<McpProbeResult>('POST', `/mcp-servers/${encodeURIComponent(name)}/test`),

  startRun: (workflowId: string, inputs: Record<string, string>, version?: number) =>
    request<RunCreated>('POST', `/workflows/${workflowId}/runs`, { inputs, version }),
  listRuns: (params: { workflow_id?: string; status?: RunStatus | ''; limit?: number; next_page_token?: string }) =>
    request<RunPage>('GET', `/runs${query(params)}`),
  getRun: (runId: string) => request<Run>('GET', `/runs/${encodeURIComponent(runId)}`),
  runEventsUrl: (runId: string) => `${API_BASE}/runs/${encodeURIComponent(runId)}/events`,
  decide: (runId: string, stepId: string, decision: 'approve' | 'reject', comment: string, round: number) =>
    request<Step>('POST', `/runs/${encodeURIComponent(runId)}/steps/${encodeURIComponent(stepId)}/decision`, {
      decision,
      comment,
      actor: ACTOR,
      round,
    }),
  retryStep: (runId: string, stepId: string) =>
    request<Step>('POST', `/runs/${encodeURIComponent(runId)}/steps/${encodeURIComponent(stepId)}/retry`, {
      actor: ACTOR,
    }),
  skipStep: (runId: string, stepId: string, output: string) =>
    request<Step>('POST', `/runs/${encodeURIComponent(runId)}/steps/${encodeURIComponent(stepId)}/skip`, {
      output,
      actor: ACTOR,
    }),
  /** Every finished attempt of a task step, failed ones included, with its LLM and tool calls. */
  getStepTranscript: (runId: string, stepId: string, signal?: AbortSignal) =>
    request<StepTranscript>(
      'GET',
      `/runs/${encodeURIComponent(runId)}/steps/${encodeURIComponent(stepId)}/transcript`,
      undefined,
      signal,
    ),
  cancelRun: (runId: string) => request<CancelAccepted>('POST', `/runs/${encodeURIComponent(runId)}/cancel`),
  /** A page of the gates waiting for a decision; pass its `next_page_token` for the next. */
  listApprovals: (params: { page_token?: string; limit?: number } = {}) =>
    request<ApprovalPage>('GET', `/approvals${query(params)}`),
};

/** A one-line message for any error thrown by the client (or by fetch itself). */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    const first = error.issues[0];
    return first ? `${first.loc.join('.')}: ${first.msg}` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
