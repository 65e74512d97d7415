/**
 * Bodies of the Kasal HTTP API (`/api/v1`), as the server sends them: the names the app
 * uses, for the types generated from the API's OpenAPI document (`./schema.ts`, from
 * `./openapi.json`; `npm run gen:api` makes both, and `npm run build` fails when they
 * drift). Nothing here is written by hand but where the document says less than the
 * app knows: a definition's shape, which the compiler checks, not the schema.
 */
import type { Definition, Layout } from '../lib/definition';
import { type components, enums } from './schema';

type Schemas = components['schemas'];

export type StepStatus = Schemas['StepStatus'];
export type RunStatus = Schemas['RunStatus'];

/**
 * Every status, in the server's order, from the API's own enums (workflows/status.py,
 * through the OpenAPI document): the app keeps no list of its own.
 */
export const STEP_STATUSES: readonly StepStatus[] = enums.StepStatus;
export const RUN_STATUSES: readonly RunStatus[] = enums.RunStatus;

/**
 * One problem with a definition, located from its root: what the app shows of a 422's
 * items (their `type` aside), and what its own checks find before saving.
 */
export type ValidationIssue = Pick<Schemas['ErrorLocation'], 'loc' | 'msg'>;
/** Every error body: `{detail}`, a sentence or the problems of a 422. */
export type ErrorBody = Schemas['ErrorResponse'];

export type WorkflowSummary = Schemas['WorkflowSummary'];
export type WorkflowPage = Schemas['WorkflowPage'];
export type Workflow = Omit<Schemas['WorkflowRead'], 'spec' | 'layout'> & {
  spec: Definition;
  layout: Layout | null;
};
export type WorkflowVersion = Omit<Schemas['VersionRead'], 'spec' | 'layout'> & {
  spec: Definition;
  layout: Layout | null;
};
export type ValidateResult = Schemas['ValidateResponse'];
export type GenerationStarted = Schemas['GenerationStarted'];
/** A generation: `spec` once completed, `errors` once failed (each null otherwise). */
export type Generation = Pick<Schemas['GenerationRead'], 'status'> & {
  spec?: Definition | null;
  errors?: ValidationIssue[] | null;
};

export type ModelConfig = Schemas['ModelConfigRead'];
export type ModelConfigCreate = Schemas['ModelConfigCreate'];
export type ModelConfigUpdate = Schemas['ModelConfigUpdate'];
export type ModelPrices = Schemas['ModelPrices'];

export type UsageGroupBy = Schemas['UsageReport']['group_by'];
export type UsageReport = Schemas['UsageReport'];
export type UsageRow = Schemas['UsageRow'];

/** A run's spending limits as a start request gives them; each left out or null: not limited. */
export type RunBudgetSpec = Schemas['BudgetSpec'];
/** New limits for an open run: each one given replaces the run's. */
export type RunBudgetRaise = Schemas['BudgetRaise'];
/** A run's limits after a raise; null: not limited. */
export type RunBudget = Schemas['BudgetRead'];
/** The workspace's monthly cap (null: none) and what its LLM calls cost this month (UTC). */
export type MonthlyBudget = Schemas['MonthlyBudgetRead'];

export type TemporalLink = Schemas['TemporalLink'];
export type RunCreated = Schemas['RunCreated'];
export type RunSummary = Schemas['RunSummary'];
export type RunPage = Schemas['RunPage'];
export type Run = Schemas['RunRead'];
export type Step = Schemas['StepRead'];
export type TokenUsage = Schemas['TokenUsage'];
export type LlmCall = Schemas['LLMCall'];
export type ToolCall = Schemas['ToolCall'];
export type TranscriptEntry = Step['transcript'][number];
/** One attempt of a task step: its calls in order, and why it failed if it did. */
export type AttemptTranscript = Schemas['AttemptTranscript'];
/** `GET /runs/{id}/steps/{step}/transcript`: every finished attempt, by execution then attempt. */
export type StepTranscript = Schemas['StepTranscript'];
export type RunTimeline = Schemas['RunTimeline'];
export type TimelineStep = Schemas['TimelineStep'];
export type TimelineAttempt = Schemas['TimelineAttempt'];
export type TimelineCall = TimelineAttempt['calls'][number];
export type TimelineGap = Schemas['TimelineGap'];
export type TimelineGateWait = Schemas['TimelineGateWait'];
export type Decision = Schemas['RecordedDecision'];
export type CancelAccepted = Schemas['CancelAccepted'];

export type ToolKind = Schemas['ToolInfo']['kind'];
/** One tool an agent may name (GET /tools): a built-in, an HTTP tool, or an MCP server's. */
export type ToolInfo = Schemas['ToolInfo'];
export type ToolCatalogue = Schemas['ToolCatalogue'];
export type HttpTool = Schemas['HttpToolRead'];
export type HttpMethod = HttpTool['method'];
export type McpServer = Schemas['McpServerRead'];
export type McpTransport = McpServer['transport'];
export type McpProbeResult = Schemas['McpProbeResult'];

/**
 * Header maps as requests send them. The document says which names a header may have
 * (`patternProperties`), which the generator reads as "no property at all".
 */
type WithHeaders<T> = Omit<T, 'headers' | 'secret_headers'> & { headers?: Record<string, string> };
export type HttpToolCreate = WithHeaders<Schemas['HttpToolCreate']> & { secret_headers?: Record<string, string> };
/** `secret_headers` omitted keeps the stored values; `null` removes them. */
export type HttpToolUpdate = WithHeaders<Schemas['HttpToolUpdate']> & { secret_headers?: Record<string, string> | null };
export type McpServerCreate = WithHeaders<Schemas['McpServerCreate']> & { secret_headers?: Record<string, string> };
export type McpServerUpdate = WithHeaders<Schemas['McpServerUpdate']> & { secret_headers?: Record<string, string> | null };

export type Approval = Schemas['PendingApproval'];
export type ApprovalPage = Schemas['ApprovalPage'];

/** Text of a running step's LLM call as it streams (the `token` event). */
export type TokenEvent = Schemas['TokenEvent'];

/** The run console's event stream (`GET /runs/{id}/events`), event by event. */
export interface RunEvents {
  snapshot: Run;
  step: Step;
  run: { run_id: string; status: RunStatus };
  /** A running step's LLM call, as it streams: a call's texts join to its reply. */
  token: TokenEvent;
  /** The stream lost track of the run and ends; an EventSource reconnects. */
  error: { run_id: string; message: string };
}

/** Who is signed in (`GET /me`): the user, how they signed in, and their workspaces with a role in each. */
export type Me = Schemas['MeRead'];
export type User = Schemas['UserRead'];
export type Role = Schemas['Role'];
export type Workspace = Schemas['WorkspaceRead'];
export type Member = Schemas['MemberRead'];
export type ApiToken = Schemas['TokenRead'];
/** A token as created: the one answer that carries its secret. */
export type ApiTokenIssued = Schemas['TokenIssued'];
export type AuditEntry = Schemas['AuditRead'];
export type AuditPage = Schemas['AuditPage'];
export type AuthMode = Schemas['AuthConfig']['mode'];


export type Schedule = Schemas['ScheduleRead'];
export type ScheduleWrite = Schemas['ScheduleWrite'];
export type SchedulePage = Schemas['SchedulePage'];
export type ScheduleOverlap = Schedule['overlap'];
