"""LLM usage: tokens and cost by day, by workflow and by model, as JSON or CSV."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.authorization import Viewer
from api.deps import UsageServiceDep
from api.schemas.errors import error_responses
from api.schemas.usage import UsageFormat, UsageGroupBy, UsageReport
from api.services.usage_csv import csv_filename, usage_csv

router = APIRouter(prefix="/usage", tags=["usage"])


@router.get(
    "",
    response_model=UsageReport,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
        **error_responses(422),
    },
)
async def get_all(
    _: Viewer,
    service: UsageServiceDep,
    from_: Annotated[
        date | None, Query(alias="from", description="First UTC day; default 29 days before to")
    ] = None,
    to: Annotated[date | None, Query(description="Last UTC day, included; default today")] = None,
    group_by: UsageGroupBy = "day",
    format: Annotated[UsageFormat, Query(description="csv: the same rows as a file")] = "json",
) -> UsageReport | Response:
    """The calls the workspace's steps really made (a call replayed by a retry counts
    once), summed per group."""
    report = await service.get_all(from_, to, group_by)
    if format == "csv":
        return Response(
            usage_csv(report),
            media_type="text/csv",
            headers={"content-disposition": f'attachment; filename="{csv_filename(report)}"'},
        )
    return report
