/** A typed client for the Kasal API. Every error body is `{"detail": ...}`. */
import type { Definition, Layout } from '../lib/definition';
import type {
  ApiToken,
  ApiTokenIssued,
  ApprovalPage,
  AuditPage,
  AuthMode,
  CancelAccepted,
  Generation,
  GenerationStarted,
  HttpTool,
  HttpToolCreate,
  HttpToolUpdate,
  McpProbeResult,
  McpServer,
  McpServerCreate,
  McpServerUpdate,
  Me,
  Member,
  ModelConfig,
  ModelConfigCreate,
  ModelConfigUpdate,
  MonthlyBudget,
  Role,
  Run,
  RunBudget,
  RunBudgetRaise,
  RunBudgetSpec,
  RunCreated,
  RunPage,
  RunStatus,
  RunTimeline,
  Schedule,
  SchedulePage,
  ScheduleWrite,
  Step,
  StepTranscript,
  ToolCatalogue,
  ToolKind,
  ValidateResult,
  ValidationIssue,
  Workflow,
  WorkflowPage,
  WorkflowVersion,
  Workspace,
  UsageGroupBy,
  UsageReport,
} from './types';

const API_BASE = '/api/v1';

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

/** Who hears of a 401 from `/api/v1`: the session, which sends the user to sign in. */
let onUnauthorized: (() => void) | null = null;

/** Call `listener` on every 401 from `/api/v1` (the session is over or never began). */
export function setUnauthorizedListener(listener: (() => void) | null): void {
  onUnauthorized = listener;
}

/**
 * One request, same-origin, with the session cookie. The browser adds the `Origin`
 * header to every POST, PUT and DELETE itself, which the API's CSRF check needs; nothing
 * here sets or strips it (and the UI never sends X-Kasal-Workspace: the session chooses).
 */
async function send<T>(url: string, method: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const response = await fetch(url, {
    method,
    signal,
    credentials: 'same-origin',
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

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  try {
    return await send<T>(API_BASE + path, method, body, signal);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) onUnauthorized?.();
    throw error;
  }
}

function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** `from` and `to` are UTC days (YYYY-MM-DD), both included; either left out takes the server's default. */
export interface UsageQuery {
  from?: string;
  to?: string;
  group_by: UsageGroupBy;
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
  /** Start writing a definition from a description; poll it with `getGeneration`. */
  generateWorkflow: (body: { prompt: string; model: string }) =>
    request<GenerationStarted>('POST', '/workflows/generate', body),
  getGeneration: (id: string) => request<Generation>('GET', `/workflows/generations/${id}`),
  listModels: () => request<ModelConfig[]>('GET', '/models'),
  createModel: (body: ModelConfigCreate) => request<ModelConfig>('POST', '/models', body),
  updateModel: (name: string, body: ModelConfigUpdate) =>
    request<ModelConfig>('PUT', `/models/${encodeURIComponent(name)}`, body),
  getUsage: (params: UsageQuery) => request<UsageReport>('GET', `/usage${query({ ...params })}`),
  /** The same report as a CSV file, for a download link. */
  usageCsvUrl: (params: UsageQuery) => `${API_BASE}/usage${query({ ...params, format: 'csv' })}`,
  getMonthlyBudget: () => request<MonthlyBudget>('GET', '/budget'),
  /** `null` removes the cap. */
  setMonthlyBudget: (maxCostUsdPerMonth: number | null) =>
    request<MonthlyBudget>('PUT', '/budget', { max_cost_usd_per_month: maxCostUsdPerMonth }),

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

  startRun: (workflowId: string, inputs: Record<string, string>, version?: number, budget?: RunBudgetSpec) =>
    request<RunCreated>('POST', `/workflows/${workflowId}/runs`, { inputs, version, budget }),
  listRuns: (params: { workflow_id?: string; status?: RunStatus | ''; limit?: number; next_page_token?: string }) =>
    request<RunPage>('GET', `/runs${query(params)}`),
  getRun: (runId: string) => request<Run>('GET', `/runs/${encodeURIComponent(runId)}`),
  runEventsUrl: (runId: string) => `${API_BASE}/runs/${encodeURIComponent(runId)}/events`,
  decide: (runId: string, stepId: string, decision: 'approve' | 'reject', comment: string, round: number) =>
    request<Step>('POST', `/runs/${encodeURIComponent(runId)}/steps/${encodeURIComponent(stepId)}/decision`, {
      decision,
      comment,
      round,
    }),
  /** Give an open run new limits; a step paused over budget then runs again on retry. */
  raiseBudget: (runId: string, body: RunBudgetRaise) =>
    request<RunBudget>('POST', `/runs/${encodeURIComponent(runId)}/budget`, body),
  /** `execution` is the paused execution the page shows: a pause the workflow has yet to apply is waited for. */
  retryStep: (runId: string, stepId: string, execution: number) =>
    request<Step>('POST', `/runs/${encodeURIComponent(runId)}/steps/${encodeURIComponent(stepId)}/retry`, {
      execution,
    }),
  skipStep: (runId: string, stepId: string, output: string, execution: number) =>
    request<Step>('POST', `/runs/${encodeURIComponent(runId)}/steps/${encodeURIComponent(stepId)}/skip`, {
      output,
      execution,
    }),
  /** Every finished attempt of a task step, failed ones included, with its LLM and tool calls. */
  getStepTranscript: (runId: string, stepId: string, signal?: AbortSignal) =>
    request<StepTranscript>(
      'GET',
      `/runs/${encodeURIComponent(runId)}/steps/${encodeURIComponent(stepId)}/transcript`,
      undefined,
      signal,
    ),
  getRunTimeline: (runId: string, signal?: AbortSignal) =>
    request<RunTimeline>('GET', `/runs/${encodeURIComponent(runId)}/timeline`, undefined, signal),
  cancelRun: (runId: string) => request<CancelAccepted>('POST', `/runs/${encodeURIComponent(runId)}/cancel`),

  listSchedules: () => request<SchedulePage>('GET', '/schedules'),
  createSchedule: (workflowId: string, body: ScheduleWrite) =>
    request<Schedule>('POST', `/workflows/${workflowId}/schedules`, body),
  deleteSchedule: (id: string) => request<void>('DELETE', `/schedules/${encodeURIComponent(id)}`),
  pauseSchedule: (id: string) => request<Schedule>('POST', `/schedules/${encodeURIComponent(id)}/pause`),
  unpauseSchedule: (id: string) => request<Schedule>('POST', `/schedules/${encodeURIComponent(id)}/unpause`),
  triggerSchedule: (id: string) => request<void>('POST', `/schedules/${encodeURIComponent(id)}/trigger`),
  /** A page of the gates waiting for a decision; pass its `next_page_token` for the next. */
  listApprovals: (params: { page_token?: string; limit?: number } = {}) =>
    request<ApprovalPage>('GET', `/approvals${query(params)}`),

  /** The signed-in user, the workspace this session acts in, and the role in each workspace. */
  me: () => request<Me>('GET', '/me'),
  /** Make a workspace (id or name) this session's own; reload every list after. */
  chooseWorkspace: (workspace: string) => request<Workspace>('PUT', '/me/workspace', { workspace }),
  listTokens: () => request<ApiToken[]>('GET', '/me/tokens'),
  createToken: (name: string, expiresInDays: number | null) =>
    request<ApiTokenIssued>('POST', '/me/tokens', { name, expires_in_days: expiresInDays }),
  revokeToken: (id: string) => request<void>('DELETE', `/me/tokens/${encodeURIComponent(id)}`),
  listWorkspaces: () => request<Workspace[]>('GET', '/workspaces'),
  listMembers: (workspaceId: string) => request<Member[]>('GET', `/workspaces/${encodeURIComponent(workspaceId)}/members`),
  /** Add a member, or change the role of one (the same call). */
  putMember: (workspaceId: string, email: string, role: Role) =>
    request<Member>('POST', `/workspaces/${encodeURIComponent(workspaceId)}/members`, { email, role }),
  removeMember: (workspaceId: string, userId: string) =>
    request<void>('DELETE', `/workspaces/${encodeURIComponent(workspaceId)}/members/${encodeURIComponent(userId)}`),
  /** The audit log, newest first; pass a page's `next_before` as `before` for older entries. */
  listAudit: (params: { before?: number; limit?: number } = {}) => request<AuditPage>('GET', `/audit${query(params)}`),
};

/** Signing in and out: outside `/api/v1`, and a 401 here is an answer, not a lost session. */
export const auth = {
  config: () => send<{ mode: AuthMode }>('/auth/config', 'GET'),
  /** 204 and the session cookie; 401 for a wrong email or password, 429 after too many tries. */
  login: (email: string, password: string) => send<void>('/auth/login', 'POST', { email, password }),
  logout: () => send<void>('/auth/logout', 'POST'),
};

/** A one-line message for any error thrown by the client (or by fetch itself). */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    const first = error.issues[0];
    return first ? `${first.loc.join('.')}: ${first.msg}` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
