"""Queries on the LLM usage of one workspace: calls summed by day, workflow or model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from db.models import LlmUsageRow

UsageGroup = Literal["day", "workflow", "model"]
Grouping = ColumnElement[Any] | QueryableAttribute[Any]


@dataclass(frozen=True)
class UsageSum:
    """The calls of one group: ``key`` identifies it (a UTC day as YYYY-MM-DD, a workflow
    id, a model config name) and ``name`` is what people read."""

    key: str
    name: str
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    total_tokens: int
    llm_calls: int
    cost_micros: int


class UsageRepository:
    def __init__(self, session: AsyncSession, workspace: str) -> None:
        self.session = session
        self.workspace = workspace

    def add(self, row: LlmUsageRow) -> None:
        row.workspace = self.workspace
        self.session.add(row)

    async def cost_since(self, start: datetime) -> int:
        """What the workspace's calls made since ``start`` cost, in micro-dollars."""
        query = select(func.coalesce(func.sum(LlmUsageRow.cost_micros), 0)).where(
            LlmUsageRow.workspace == self.workspace, LlmUsageRow.created_at >= start
        )
        return int((await self.session.execute(query)).scalar_one())

    async def sums(self, start: datetime, end: datetime, group_by: UsageGroup) -> list[UsageSum]:
        """The calls made in [start, end), summed per group, ordered by key."""
        group, name = self._group(group_by)
        key = group.label("key")
        query = (
            select(
                key,
                name.label("name"),
                func.sum(LlmUsageRow.prompt_tokens),
                func.sum(LlmUsageRow.completion_tokens),
                func.sum(LlmUsageRow.cached_tokens),
                func.sum(LlmUsageRow.total_tokens),
                func.count(),
                func.sum(LlmUsageRow.cost_micros),
            )
            .where(
                LlmUsageRow.workspace == self.workspace,
                LlmUsageRow.created_at >= start,
                LlmUsageRow.created_at < end,
            )
            .group_by(key)
            .order_by(key)
        )
        rows = (await self.session.execute(query)).all()
        return [UsageSum(str(r[0]), str(r[1]), *(int(value or 0) for value in r[2:])) for r in rows]

    def _group(self, group_by: UsageGroup) -> tuple[Grouping, ColumnElement[Any]]:
        if group_by == "workflow":
            # A renamed workflow stays one group, under its latest name.
            return LlmUsageRow.workflow_id, func.max(LlmUsageRow.workflow_name)
        if group_by == "model":
            return LlmUsageRow.model_config_name, func.max(LlmUsageRow.model_config_name)
        day = self._utc_day()
        return day, func.max(day)

    def _utc_day(self) -> ColumnElement[Any]:
        # SQLite keeps UTC timestamps as text; Postgres as timestamptz, read here in UTC
        # whatever the session's time zone. Literal formats, not bound parameters: the
        # grouped expression and the selected one must be the same text for Postgres.
        if self.session.get_bind().dialect.name == "postgresql":
            utc = func.timezone(literal_column("'UTC'"), LlmUsageRow.created_at)
            return func.to_char(utc, literal_column("'YYYY-MM-DD'"))
        return func.strftime(literal_column("'%Y-%m-%d'"), LlmUsageRow.created_at)
