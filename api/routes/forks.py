"""Fork a run from one of its steps (time travel)."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.authorization import Operator
from api.deps import RunForkerDep, RunReaderDep
from api.routes.runs import IdempotencyKey
from api.schemas.errors import error_responses
from api.schemas.forks import ForkCreated, ForkRequest

router = APIRouter(tags=["runs"])


@router.post(
    "/runs/{run_id}/fork",
    response_model=ForkCreated,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 404, 422, 503),
)
async def fork(
    _: Operator,
    run_id: str,
    body: ForkRequest,
    service: RunForkerDep,
    reader: RunReaderDep,
    idempotency_key: IdempotencyKey = None,
) -> ForkCreated:
    """Start a new run that reuses every finished step not downstream of `from_step`, and
    runs `from_step` and everything after it, on the same or another version. 422 when
    the step is in neither the parent nor the chosen version."""
    return await service.fork(run_id, body, reader, idempotency_key)
