"""Listing runs, and the gates waiting for a decision across them, a page at a time
from Temporal's visibility store (see run_pages for how a page ends and the next
begins)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from temporalio.client import Client, WorkflowExecution
from temporalio.service import RPCError

from api.schemas.runs import ApprovalPage, PendingApproval, RunPage, RunSummary
from api.services.run_access import (
    RunAccess,
    RunHandle,
    listed_status,
    optional_uuid,
    query_state,
)
from api.services.run_pages import Cursor, decode_page_token, newest_first, run_started_at
from workflows.roles import Role, may_decide
from workflows.run_state import AgentWorkflowResult
from workflows.search_attributes import (
    KASAL_APPROVERS,
    KASAL_COST_MICROS,
    KASAL_STATUS,
    KASAL_VERSION,
    KASAL_WORKFLOW_ID,
    KASAL_WORKFLOW_NAME,
)
from workflows.status import RunStatus, StepStatus

# A status filter in visibility terms: Temporal's close status is the truth once closed.
_STATUS_QUERY = {
    RunStatus.RUNNING: "ExecutionStatus = 'Running' AND KasalStatus = 'running'",
    RunStatus.WAITING_FOR_APPROVAL: (
        "ExecutionStatus = 'Running' AND KasalStatus = 'waiting_for_approval'"
    ),
    RunStatus.NEEDS_ATTENTION: "ExecutionStatus = 'Running' AND KasalStatus = 'needs_attention'",
    RunStatus.COMPLETED: "ExecutionStatus = 'Completed' AND KasalStatus = 'completed'",
    RunStatus.REJECTED: "ExecutionStatus = 'Completed' AND KasalStatus = 'rejected'",
    RunStatus.FAILED: "ExecutionStatus = 'Failed'",
    RunStatus.CANCELLED: "ExecutionStatus = 'Canceled'",
    RunStatus.TERMINATED: "ExecutionStatus = 'Terminated'",
    RunStatus.TIMED_OUT: "ExecutionStatus = 'TimedOut'",
}

# Who asks for the gates they may decide: an email and their role in the workspace.
Decider = tuple[str, Role]

_WAITING_RUNS = [
    "ExecutionStatus = 'Running'",
    "(KasalStatus = 'waiting_for_approval' OR KasalStatus = 'needs_attention')",
]


class RunLister(RunAccess):
    async def get_all(
        self,
        *,
        workflow_id: uuid.UUID | None,
        status: RunStatus | None,
        limit: int,
        page_token: str | None,
        schedule_id: str | None = None,
    ) -> RunPage:
        """Runs from Temporal's visibility store, newest first, a page after a cursor."""
        client = await self.temporal.client()
        clauses = [self.runs_query, "ExecutionStatus != 'ContinuedAsNew'"]
        if workflow_id is not None:
            clauses.append(f"KasalWorkflowId = '{workflow_id}'")
        if schedule_id is not None:
            clauses.append(f"KasalScheduleId = '{schedule_id}'")
        if status is not None:
            clauses.append(_STATUS_QUERY[status])
        page, more = await _newest_runs(client, clauses, limit, decode_page_token(page_token))
        return RunPage(
            items=[self._summary(e) for e in page],
            next_page_token=Cursor.after(page[-1]).encode() if more and page else None,
        )

    async def approvals(
        self, *, limit: int, page_token: str | None, decider: Decider | None = None
    ) -> ApprovalPage:
        """Gates waiting for a decision, a page of whole runs at a time.

        Runs come newest-started first, like the runs list, after the page token's
        cursor; within a page the oldest wait comes first. A page holds at most ``limit``
        gates, unless one run alone waits at more. With a ``decider``, only the gates
        they may decide, found by ``KasalApprovers`` (see ``approvers_clause``).
        """
        client = await self.temporal.client()
        after = decode_page_token(page_token)
        clauses = [self.runs_query, *_WAITING_RUNS]
        if decider is not None:
            clauses.append(approvers_clause(*decider))
        items: list[PendingApproval] = []
        while len(items) < limit:
            runs, more = await _newest_runs(client, clauses, limit - len(items), after)
            gates_per_run = await asyncio.gather(
                *(self._waiting_gates(client, execution, decider) for execution in runs)
            )
            for execution, gates in zip(runs, gates_per_run, strict=True):
                if items and len(items) + len(gates) > limit:
                    return _approval_page(items, after)
                items += gates
                after = Cursor.after(execution)
            if not more:
                return _approval_page(items, None)
        return _approval_page(items, after)

    async def _waiting_gates(
        self, client: Client, execution: WorkflowExecution, decider: Decider | None
    ) -> list[PendingApproval]:
        handle: RunHandle = client.get_workflow_handle(
            execution.id, result_type=AgentWorkflowResult
        )
        try:
            state = await query_state(handle, execution.workflow_type)
        except RPCError:
            return []  # no worker answers now; the run shows as waiting in the runs list
        attributes = execution.typed_search_attributes
        return [
            PendingApproval(
                run_id=execution.id,
                workflow_id=optional_uuid(attributes.get(KASAL_WORKFLOW_ID)),
                workflow_name=attributes.get(KASAL_WORKFLOW_NAME) or "",
                version=attributes.get(KASAL_VERSION) or 0,
                step_id=step.id,
                message=step.message or "",
                round=step.round,
                waiting_since=step.waiting_since,
                deadline=step.deadline,
                approvers=step.approvers,
            )
            for step in state.steps
            if step.status == StepStatus.WAITING
            and (decider is None or may_decide(step.approvers, decider[0], decider[1].value))
        ]

    def _summary(self, execution: WorkflowExecution) -> RunSummary:
        attributes = execution.typed_search_attributes
        return RunSummary(
            run_id=execution.id,
            workflow_id=optional_uuid(attributes.get(KASAL_WORKFLOW_ID)),
            workflow_name=attributes.get(KASAL_WORKFLOW_NAME) or "",
            version=attributes.get(KASAL_VERSION) or 0,
            status=listed_status(execution.status, attributes.get(KASAL_STATUS)),
            started_at=run_started_at(execution),
            closed_at=execution.close_time,
            temporal=self._link(execution.id, execution.run_id),
            cost_micros=attributes.get(KASAL_COST_MICROS) or 0,
        )


def approvers_clause(email: str, role: Role) -> str:
    """Runs with a waiting gate that ``email`` with ``role`` may decide.

    ``KasalApprovers`` holds each waiting gate's approvers, and ``operator`` for a gate
    that names none; a role name there admits that role and those above it. So a user
    matches by their email, or by any role at or below their own."""
    names = [lower.value for lower in Role if role.at_least(lower)]
    # Visibility queries have no escape for a quote: such an address matches by role only.
    if "'" not in email and "\\" not in email:
        names.insert(0, email.strip().lower())
    listed = ", ".join(f"'{name}'" for name in names)
    return f"{KASAL_APPROVERS.name} IN ({listed})"


async def _newest_runs(
    client: Client, clauses: list[str], count: int, after: Cursor | None
) -> tuple[list[WorkflowExecution], bool]:
    if after is not None:
        clauses = [*clauses, after.visibility_clause()]
    executions = aiter(client.list_workflows(" AND ".join(clauses)))
    return await newest_first(executions, count, after)


def _approval_page(items: list[PendingApproval], last_run: Cursor | None) -> ApprovalPage:
    items.sort(key=lambda item: item.waiting_since or datetime.max.replace(tzinfo=UTC))
    return ApprovalPage(
        items=items, next_page_token=last_run.encode() if last_run is not None else None
    )
