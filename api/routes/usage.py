"""LLM usage: tokens and cost by day, by workflow and by model, as JSON or CSV."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BeforeValidator

from api.authorization import Viewer
from api.deps import UsageServiceDep
from api.schemas.errors import error_responses
from api.schemas.usage import UsageFormat, UsageGroupBy, UsageReport
from api.services.usage_csv import csv_filename, usage_csv

router = APIRouter(prefix="/usage", tags=["usage"])

# Days whose span and defaults stay within the calendar Python counts (date.min to date.max).
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(9999, 12, 30)


def _iso_day(value: object) -> object:
    """As the schema says, a day is YYYY-MM-DD; not a timestamp such as 0, which pydantic
    would otherwise read as 1970-01-01."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("a day as YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_iso_day)]


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
        Day | None,
        Query(
            alias="from",
            ge=FIRST_DAY,
            le=LAST_DAY,
            description="First UTC day; default 29 days before to",
        ),
    ] = None,
    to: Annotated[
        Day | None,
        Query(ge=FIRST_DAY, le=LAST_DAY, description="Last UTC day, included; default today"),
    ] = None,
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
