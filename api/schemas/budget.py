"""Request and response bodies for a workspace's monthly budget."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field

from workflows.task_step import MICROS_PER_USD

# A billion dollars a month: in micro-dollars it still fits the database's 64-bit integer.
MAX_USD = 1e9


class MonthlyBudgetWrite(BaseModel):
    """The cap on what the workspace's runs' LLM calls cost a calendar month (UTC);
    null removes it."""

    model_config = ConfigDict(extra="forbid")

    max_cost_usd_per_month: float | None = Field(gt=0, le=MAX_USD, allow_inf_nan=False)


class MonthlyBudgetRead(BaseModel):
    max_cost_usd_per_month: float | None
    month_start: datetime
    spent_this_month_micros: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def spent_this_month_usd(self) -> float:
        return self.spent_this_month_micros / MICROS_PER_USD
