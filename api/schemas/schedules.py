"""Schedules: when a workflow's runs start by themselves (Temporal Schedules)."""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from api.limits import run_inputs_within_limit

Overlap = Literal["skip", "buffer_one", "allow_all", "cancel_other"]
OVERLAP_DESCRIPTION = (
    "When a run is due while the schedule's last run is still open: `skip` it, "
    "`buffer_one` (start it when the open one closes; at most one waits), `allow_all` "
    "(start it anyway), or `cancel_other` (cancel the open run, then start)"
)
# Temporal refuses shorter catch-up windows (it would round them up).
MIN_CATCHUP_WINDOW_SECONDS = 10


def known_time_zone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone (like UTC or Europe/Paris)") from None
    return name


class ScheduleWrite(BaseModel):
    """A schedule as sent: exactly one of `cron` and `interval`."""

    model_config = ConfigDict(extra="forbid")

    cron: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="A cron expression (5 fields, or 6-7 with seconds and years; "
        "`@daily`, `@every 1h` too), in `time_zone`",
        examples=["0 9 * * 1-5"],
    )
    interval: int | None = Field(
        None, ge=1, le=366 * 86400, description="Seconds between runs, counted from the epoch"
    )
    time_zone: Annotated[str, AfterValidator(known_time_zone)] = Field(
        "UTC", max_length=100, description="The IANA time zone `cron` is read in"
    )
    inputs: Annotated[dict[str, Any], AfterValidator(run_inputs_within_limit)] = {}
    version: Literal["latest"] | Annotated[int, Field(ge=1)] = Field(
        "latest",
        description="`latest`: the newest version when the schedule fires; or a version number",
    )
    overlap: Overlap = Field("skip", description=OVERLAP_DESCRIPTION)
    catchup_window: int = Field(
        600,
        ge=MIN_CATCHUP_WINDOW_SECONDS,
        le=366 * 86400,
        description="Seconds: how late a run missed while Temporal was down may still start",
    )
    paused: bool | None = Field(
        None,
        description="Paused schedules start nothing by themselves; a PUT without it "
        "keeps the schedule's state",
    )


class BackfillRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_at: AwareDatetime
    end_at: AwareDatetime = Field(
        description="After `start_at`; times in between that the "
        "schedule names start runs now, as if they had come"
    )
    overlap: Overlap | None = Field(
        None, description=f"For these runs; the schedule's own by default. {OVERLAP_DESCRIPTION}"
    )


class ScheduledRun(BaseModel):
    """One of the schedule's recent actions, and the run it started."""

    run_id: str
    scheduled_at: datetime
    started_at: datetime


class ScheduleRead(BaseModel):
    id: str
    workflow_id: uuid.UUID
    workflow_name: str
    cron: str | None
    interval: int | None
    time_zone: str
    inputs: dict[str, Any]
    version: Literal["latest"] | int
    overlap: Overlap
    catchup_window: int
    paused: bool
    note: str | None = Field(description="Why it was paused or unpaused, when said")
    next_action_times: list[datetime] = Field(description="From Temporal: the next few runs")
    recent_actions: list[ScheduledRun] = Field(description="From Temporal, oldest first")
    running: list[str] = Field(description="The ids of the schedule's runs open now")
    num_actions: int = Field(description="Runs started so far")
    created_at: datetime


class SchedulePage(BaseModel):
    items: list[ScheduleRead]
