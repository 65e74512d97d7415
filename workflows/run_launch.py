"""How a run starts, shared by the API (api/services/run_starting.py) and the schedules'
launcher workflow (workflows/scheduled_run.py): its search attributes and what Temporal
Web shows of it. Pure, so that workflow code may import it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from temporalio.common import SearchAttributePair, TypedSearchAttributes

from workflows.plan import RunMeta
from workflows.search_attributes import (
    KASAL_FORKED_FROM,
    KASAL_FORKED_FROM_STEP,
    KASAL_SCHEDULE_ID,
    KASAL_STARTED_AT,
    KASAL_STATUS,
    KASAL_VERSION,
    KASAL_WORKFLOW_ID,
    KASAL_WORKFLOW_NAME,
    KASAL_WORKSPACE,
)
from workflows.status import RunStatus

SCHEDULED_RUNS = uuid.UUID("0d7f3e0a-64c1-4f7b-9a43-2b8e5c1f9d26")


def run_search_attributes(
    meta: RunMeta,
    started_at: datetime,
    *,
    forked_from: tuple[str, str] | None = None,
    schedule_id: str | None = None,
) -> TypedSearchAttributes:
    """What makes a run findable: its workflow, version, status, start and workspace; a
    fork's parent run and step; the schedule that started it."""
    attributes: list[SearchAttributePair[Any]] = [
        SearchAttributePair(KASAL_WORKFLOW_ID, meta.workflow_id),
        SearchAttributePair(KASAL_WORKFLOW_NAME, meta.workflow_name),
        SearchAttributePair(KASAL_VERSION, meta.version),
        SearchAttributePair(KASAL_STATUS, RunStatus.RUNNING.value),
        SearchAttributePair(KASAL_STARTED_AT, started_at),
        SearchAttributePair(KASAL_WORKSPACE, meta.workspace),
    ]
    if forked_from is not None:
        attributes += [
            SearchAttributePair(KASAL_FORKED_FROM, forked_from[0]),
            SearchAttributePair(KASAL_FORKED_FROM_STEP, forked_from[1]),
        ]
    if schedule_id is not None:
        attributes.append(SearchAttributePair(KASAL_SCHEDULE_ID, schedule_id))
    return TypedSearchAttributes(attributes)


def run_summary(meta: RunMeta) -> str:
    """What Temporal Web shows of the run: stored in plain text even when payloads are
    encrypted, so then only ids."""
    if meta.content_free_summaries:
        return f"Kasal run · v{meta.version}"
    return f"{meta.workflow_name} · v{meta.version}"


def run_details(meta: RunMeta) -> str:
    if meta.content_free_summaries:
        return f"Kasal workflow {meta.workflow_id}, version {meta.version}"
    return f"Kasal workflow {meta.workflow_name} ({meta.workflow_id}), version {meta.version}"


def scheduled_run_id(launcher_run_id: str) -> str:
    """The run a schedule's launcher starts, named after the launcher's first execution,
    so that the schedule's recent and running actions, which name it, lead to their runs
    without a lookup. Not after the launcher's workflow id: the schedule names that after
    the firing time to the second, which two firings in one second (a trigger beside a
    scheduled time) share."""
    return f"run-{uuid.uuid5(SCHEDULED_RUNS, launcher_run_id)}"
