"""Response bodies for LLM usage: tokens and cost summed by day, workflow or model."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from workflows.task_step import MICROS_PER_USD

UsageGroupBy = Literal["day", "workflow", "model"]
UsageFormat = Literal["json", "csv"]


class UsageRow(BaseModel):
    """The LLM calls of one group. ``key``: the UTC day (YYYY-MM-DD), the workflow id or
    the model config name; ``name``: the day, the workflow's name or the model config name."""

    key: str
    name: str
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    total_tokens: int
    llm_calls: int
    cost_micros: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cost_usd(self) -> float:
        return self.cost_micros / MICROS_PER_USD


class UsageReport(BaseModel):
    """Every LLM call made in the workspace from ``from`` to ``to`` (UTC days, both
    included), by group; by day, every day of the span has a row, zero or not."""

    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    group_by: UsageGroupBy
    items: list[UsageRow]
    total: UsageRow
