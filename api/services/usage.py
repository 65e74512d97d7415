"""LLM usage of the caller's workspace: the calls its steps really made, summed by day,
workflow or model (one row per call in ``llm_usage``, written by the worker)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from fastapi.exceptions import RequestValidationError

from api.schemas.usage import UsageGroupBy, UsageReport, UsageRow
from db.repositories.usage import UsageSum
from db.uow import UnitOfWork

DEFAULT_DAYS = 30
# A day's rows are filled in for every day of the span: the span is kept to a chart's size.
MAX_DAYS = 366


class UsageService:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    async def get_all(
        self, start: date | None, end: date | None, group_by: UsageGroupBy
    ) -> UsageReport:
        """The workspace's usage from ``start`` to ``end`` (UTC days, both included);
        by default the last 30 days, today included."""
        end = end or datetime.now(UTC).date()
        start = start or end - timedelta(days=DEFAULT_DAYS - 1)
        _check_span(start, end)
        async with self.uow as uow:
            sums = await uow.usage.sums(
                _midnight(start), _midnight(end + timedelta(days=1)), group_by
            )
        items = [_row(s) for s in sums]
        if group_by == "day":
            items = _every_day(items, start, end)
        return UsageReport(from_=start, to=end, group_by=group_by, items=items, total=_total(items))


def _check_span(start: date, end: date) -> None:
    if start > end:
        raise _invalid("to", "must not be before from")
    if (end - start).days + 1 > MAX_DAYS:
        raise _invalid("from", f"the span may cover at most {MAX_DAYS} days")


def _invalid(parameter: str, msg: str) -> RequestValidationError:
    return RequestValidationError(
        [{"loc": ("query", parameter), "msg": msg, "type": "value_error"}]
    )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _row(sum_: UsageSum) -> UsageRow:
    return UsageRow(
        key=sum_.key,
        name=sum_.name,
        prompt_tokens=sum_.prompt_tokens,
        completion_tokens=sum_.completion_tokens,
        cached_tokens=sum_.cached_tokens,
        total_tokens=sum_.total_tokens,
        llm_calls=sum_.llm_calls,
        cost_micros=sum_.cost_micros,
    )


def _every_day(items: list[UsageRow], start: date, end: date) -> list[UsageRow]:
    """A row for each day of the span, so a chart's days are evenly spaced."""
    by_day = {item.key: item for item in items}
    days = (start + timedelta(days=n) for n in range((end - start).days + 1))
    return [by_day.get(day.isoformat()) or _zero(day.isoformat()) for day in days]


def _zero(key: str) -> UsageRow:
    return UsageRow(
        key=key,
        name=key,
        prompt_tokens=0,
        completion_tokens=0,
        cached_tokens=0,
        total_tokens=0,
        llm_calls=0,
        cost_micros=0,
    )


def _total(items: list[UsageRow]) -> UsageRow:
    total = _zero("total")
    for item in items:
        for field in (
            "prompt_tokens",
            "completion_tokens",
            "cached_tokens",
            "total_tokens",
            "llm_calls",
            "cost_micros",
        ):
            setattr(total, field, getattr(total, field) + getattr(item, field))
    return total
