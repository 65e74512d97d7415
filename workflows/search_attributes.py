"""Search attributes that make runs findable in Temporal's visibility store and Temporal Web."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

KASAL_WORKFLOW_ID = SearchAttributeKey.for_keyword("KasalWorkflowId")
KASAL_WORKFLOW_NAME = SearchAttributeKey.for_keyword("KasalWorkflowName")
KASAL_VERSION = SearchAttributeKey.for_int("KasalVersion")
# Kept current with the status table at every change (workflows/status.py).
KASAL_STATUS = SearchAttributeKey.for_keyword("KasalStatus")

# When the run started. Temporal's StartTime is its latest execution's, so a run that
# continued as new would jump ahead of runs started after it in a newest-first list.
KASAL_STARTED_AT = SearchAttributeKey.for_datetime("KasalStartedAt")

# A fork names the run and step it was forked from, so the parent can list its forks.
KASAL_FORKED_FROM = SearchAttributeKey.for_keyword("KasalForkedFrom")
KASAL_FORKED_FROM_STEP = SearchAttributeKey.for_keyword("KasalForkedFromStep")

# The workspace a run belongs to: every list and count the API makes filters on it.
# Runs from before workspaces have none and belong to `default`.
KASAL_WORKSPACE = SearchAttributeKey.for_keyword("KasalWorkspace")

# Who may decide the gates a run waits at now: approvers' emails and role names,
# lowercased, and `operator` for a gate that names no approvers (operators and above
# decide it). Unset when no gate waits. `GET /approvals?mine=true` filters on it.
KASAL_APPROVERS = SearchAttributeKey.for_keyword_list("KasalApprovers")

# The Temporal Schedule that started a run (api/services/schedules.py): its launcher
# (workflows/scheduled_run.py) starts the run with it, so a schedule's runs are found.
KASAL_SCHEDULE_ID = SearchAttributeKey.for_keyword("KasalScheduleId")

# What the run's LLM calls cost so far, in micro-dollars (an integer, so exact): kept
# current as steps finish, so `KasalCostMicros > 1000000` finds the runs over a dollar.
KASAL_COST_MICROS = SearchAttributeKey.for_int("KasalCostMicros")

ALL_KEYS = (
    KASAL_WORKFLOW_ID,
    KASAL_WORKFLOW_NAME,
    KASAL_VERSION,
    KASAL_STATUS,
    KASAL_FORKED_FROM,
    KASAL_FORKED_FROM_STEP,
    KASAL_STARTED_AT,
    KASAL_WORKSPACE,
    KASAL_APPROVERS,
    KASAL_SCHEDULE_ID,
    KASAL_COST_MICROS,
)
