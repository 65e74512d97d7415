"""Runs, addressed by their Temporal workflow id alone (continue-as-new changes run ids)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, status
from fastapi.responses import StreamingResponse

from api.authorization import Admin, Operator, Viewer
from api.deps import (
    CallJournalDep,
    LiveTokensDep,
    RunDeleterDep,
    RunListerDep,
    RunOperatorDep,
    RunReaderDep,
    RunStarterDep,
)
from api.errors import BadRequest
from api.schemas.errors import error_responses
from api.schemas.events import RUN_EVENT
from api.schemas.runs import (
    ApprovalPage,
    BudgetRaise,
    BudgetRead,
    CancelAccepted,
    DecisionRequest,
    HistoryEvent,
    RetryRequest,
    RunCreate,
    RunCreated,
    RunPage,
    RunRead,
    SkipRequest,
    StepRead,
)
from api.services.run_events import run_events
from workflows.status import RunStatus

router = APIRouter(tags=["runs"])
# Schedule ids are Kasal's (`schedule-<uuid>`); nothing else may reach a visibility query.
SCHEDULE_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,200}$"


async def _page_token(
    page_token: Annotated[
        str | None, Query(description="The `next_page_token` of the page before")
    ] = None,
    next_page_token: Annotated[
        str | None, Query(description="The same as `page_token`, as the runs list has taken it")
    ] = None,
) -> str | None:
    if page_token and next_page_token and page_token != next_page_token:
        raise BadRequest("page_token and next_page_token differ; send one")
    return page_token or next_page_token


PageTokenDep = Annotated[str | None, Depends(_page_token)]


@router.post(
    "/workflows/{workflow_id}/runs",
    response_model=RunCreated,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 404, 422, 503),
)
async def create(
    _: Operator,
    workflow_id: uuid.UUID,
    body: RunCreate,
    service: RunStarterDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> RunCreated:
    """Start a run; the same Idempotency-Key again returns the same run."""
    return await service.create(workflow_id, body, idempotency_key)


@router.get("/runs", response_model=RunPage, responses=error_responses(400, 422, 503))
async def get_all(
    _: Viewer,
    service: RunListerDep,
    page_token: PageTokenDep,
    workflow_id: uuid.UUID | None = None,
    status: RunStatus | None = None,
    schedule_id: Annotated[
        str | None,
        Query(pattern=SCHEDULE_ID_PATTERN, description="Only the runs this schedule started"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> RunPage:
    """Newest first; pass a page's `next_page_token` back for the runs that started before."""
    return await service.get_all(
        workflow_id=workflow_id,
        status=status,
        schedule_id=schedule_id,
        limit=limit,
        page_token=page_token,
    )


@router.get("/runs/{run_id}", response_model=RunRead, responses=error_responses(404, 503))
async def get(_: Viewer, run_id: str, service: RunReaderDep) -> RunRead:
    return await service.get(run_id)


@router.get(
    "/runs/{run_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": (
                "A stream of server-sent events: `snapshot` (a RunRead), then `step` (a "
                "StepRead), `call` (a CallEvent: an LLM or tool call of a running step "
                "started or finished), `llm_call` and `tool_call` (an LlmCallEvent or "
                "ToolCallEvent: a call finished), `token` (a TokenEvent: an LLM call's text "
                "as it streams, first the text so far) and `run` (`{run_id, status}`) as "
                "they change; `error` (`{run_id, message}`) when the run can no longer be "
                "followed, and the stream ends. The schema is one event's."
            ),
            "content": {"text/event-stream": {"schema": RUN_EVENT}},
        },
        **error_responses(404, 503),
    },
)
async def events(
    _: Viewer,
    run_id: str,
    request: Request,
    service: RunReaderDep,
    calls: CallJournalDep,
    live: LiveTokensDep,
) -> StreamingResponse:
    """Server-sent events: `snapshot`, then `step`, `call`, `llm_call`, `tool_call`,
    `token` and `run` as they change."""
    first = await service.get(run_id)  # a 404 comes before the stream starts
    return StreamingResponse(
        run_events(service, calls, live, first, request.is_disconnected),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/approvals", response_model=ApprovalPage, responses=error_responses(400, 422, 503))
async def approvals(
    principal: Viewer,
    service: RunListerDep,
    page_token: PageTokenDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    mine: Annotated[
        bool, Query(description="Only the gates you may decide (by `KasalApprovers`).")
    ] = False,
) -> ApprovalPage:
    """Gates waiting for a decision, across all runs, a page at a time: follow
    `next_page_token` until it is null to see every one."""
    decider = (principal.email, principal.role) if mine else None
    return await service.approvals(limit=limit, page_token=page_token, decider=decider)


@router.get(
    "/runs/{run_id}/history",
    response_model=list[HistoryEvent],
    responses=error_responses(404, 503),
)
async def history(_: Viewer, run_id: str, service: RunReaderDep) -> list[HistoryEvent]:
    return await service.history(run_id)


# An operation on a step: 404 for an unknown run or step, 409 when the step is not in the
# state it needs (or the run is closed), 503 when no worker takes it.
OPERATION_ERRORS = error_responses(400, 404, 409, 422, 503)

# A retried call with the same key returns the first call's outcome and never acts twice.
IdempotencyKey = Annotated[
    str | None,
    Header(
        max_length=200,
        description="Any unique string; a retry with the same key gets the first answer",
    ),
]


@router.post(
    "/runs/{run_id}/steps/{step_id}/decision", response_model=StepRead, responses=OPERATION_ERRORS
)
async def decide(
    principal: Viewer,
    run_id: str,
    step_id: str,
    body: DecisionRequest,
    service: RunOperatorDep,
    idempotency_key: IdempotencyKey = None,
) -> StepRead:
    """Approve or reject a waiting gate: 403 unless you are one of its approvers (or, for a
    gate that names none, an operator or above), 404 for an unknown step, 409 if it is not
    waiting (or another decision won). The decision is recorded under your identity."""
    return await service.decide(run_id, step_id, body, principal, idempotency_key)


@router.post("/runs/{run_id}/budget", response_model=BudgetRead, responses=OPERATION_ERRORS)
async def raise_budget(
    principal: Operator, run_id: str, body: BudgetRaise, service: RunOperatorDep
) -> BudgetRead:
    """Give an open run new limits (each one sent replaces the run's); a step paused over
    budget then runs again on retry, replaying the calls it paid for. 409 if closed."""
    return await service.raise_budget(run_id, body, principal)


@router.post(
    "/runs/{run_id}/steps/{step_id}/retry", response_model=StepRead, responses=OPERATION_ERRORS
)
async def retry_step(
    principal: Operator,
    run_id: str,
    step_id: str,
    service: RunOperatorDep,
    body: RetryRequest | None = None,
    idempotency_key: IdempotencyKey = None,
) -> StepRead:
    """Run a paused step again, with its model config resolved afresh: 409 if it is not
    paused (or another retry or skip won)."""
    execution = body.execution if body is not None else None
    return await service.retry_step(run_id, step_id, principal, idempotency_key, execution)


@router.post(
    "/runs/{run_id}/steps/{step_id}/skip", response_model=StepRead, responses=OPERATION_ERRORS
)
async def skip_step(
    principal: Operator,
    run_id: str,
    step_id: str,
    body: SkipRequest,
    service: RunOperatorDep,
    idempotency_key: IdempotencyKey = None,
) -> StepRead:
    """Pass over a paused step and continue with the given output."""
    return await service.skip_step(run_id, step_id, body, principal, idempotency_key)


@router.post(
    "/runs/{run_id}/cancel",
    response_model=CancelAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(404, 409, 422, 503),
)
async def cancel(
    _: Operator, run_id: str, service: RunOperatorDep, idempotency_key: IdempotencyKey = None
) -> CancelAccepted:
    return await service.cancel(run_id, idempotency_key)


@router.delete(
    "/runs/{run_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(404, 422, 503),
)
async def delete(_: Admin, run_id: str, service: RunDeleterDep) -> None:
    """Delete a run for good: its Temporal executions (an open one is terminated first),
    its outputs, transcripts and payloads, and its call journal."""
    await service.delete(run_id)
