"""What every run service shares: finding a run on Temporal, its status once it has
closed, and its link in Temporal Web. A run is addressed by its Temporal workflow id
alone (continue-as-new changes execution run ids)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from temporalio.client import WorkflowExecutionDescription, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from api.errors import NotFound, Unavailable
from api.schemas.runs import TemporalLink
from api.temporal import TemporalGateway
from db.models import DEFAULT_WORKSPACE
from kasal.settings import Settings
from workflows.run_state import AgentWorkflowResult, RunState, StatusPage
from workflows.search_attributes import KASAL_WORKSPACE
from workflows.status import RunStatus

# New runs start on AgentWorkflowV2; runs started before it finish on AgentWorkflow.
WORKFLOW_TYPE = "AgentWorkflowV2"
LEGACY_WORKFLOW_TYPE = "AgentWorkflow"
WORKFLOW_TYPES = (WORKFLOW_TYPE, LEGACY_WORKFLOW_TYPE)
# Visibility's filter for every Kasal run, of either type.
RUN_TYPES_QUERY = f"WorkflowType IN ('{WORKFLOW_TYPE}', '{LEGACY_WORKFLOW_TYPE}')"
# An open run is asked for its state; a run whose worker is gone must not hang the API.
QUERY_TIMEOUT = timedelta(seconds=3)


def workspace_clause(workspace: str) -> str:
    """Visibility's filter for one workspace's runs (ids are [A-Za-z0-9-], no quoting)."""
    if workspace == DEFAULT_WORKSPACE:
        return f"({KASAL_WORKSPACE.name} = '{workspace}' OR {KASAL_WORKSPACE.name} IS NULL)"
    return f"{KASAL_WORKSPACE.name} = '{workspace}'"


CLOSED_STATUS = {
    WorkflowExecutionStatus.FAILED: RunStatus.FAILED,
    WorkflowExecutionStatus.CANCELED: RunStatus.CANCELLED,
    WorkflowExecutionStatus.TERMINATED: RunStatus.TERMINATED,
    WorkflowExecutionStatus.TIMED_OUT: RunStatus.TIMED_OUT,
}

RunHandle = WorkflowHandle[Any, AgentWorkflowResult]


class RunAccess:
    """The base of the run services: Temporal, and the settings that name its parts."""

    def __init__(self, temporal: TemporalGateway, settings: Settings, workspace: str) -> None:
        self.temporal = temporal
        self.settings = settings
        # Runs of other workspaces answer as if they did not exist.
        self.workspace = workspace
        self.runs_query = f"{RUN_TYPES_QUERY} AND {workspace_clause(workspace)}"

    async def _handle(self, run_id: str) -> RunHandle:
        client = await self.temporal.client()
        return client.get_workflow_handle(run_id, result_type=AgentWorkflowResult)

    async def _describe(self, handle: RunHandle) -> WorkflowExecutionDescription:
        try:
            description = await handle.describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise NotFound(f"no run {handle.id}") from None
            raise Unavailable(f"Temporal did not answer: {err.message}") from None
        if description.workflow_type not in WORKFLOW_TYPES or not self._ours(description):
            raise NotFound(f"no run {handle.id}")
        return description

    def _ours(self, description: WorkflowExecutionDescription) -> bool:
        attributes = description.typed_search_attributes
        return (attributes.get(KASAL_WORKSPACE) or DEFAULT_WORKSPACE) == self.workspace

    def _link(self, run_id: str, execution_run_id: str | None) -> TemporalLink:
        namespace = self.settings.TEMPORAL_NAMESPACE
        url = f"{self.settings.temporal_ui_url}/namespaces/{namespace}/workflows/{run_id}"
        if execution_run_id:
            url += f"/{execution_run_id}/history"
        return TemporalLink(
            namespace=namespace, workflow_id=run_id, run_id=execution_run_id, web_url=url
        )


async def query_state(handle: RunHandle, workflow_type: str) -> RunState:
    """Every step of an open run, asked of the workflow; v2 answers a page at a time."""
    if workflow_type == LEGACY_WORKFLOW_TYPE:
        return await handle.query("status", result_type=RunState, rpc_timeout=QUERY_TIMEOUT)
    page = StatusPage()
    steps = []
    while True:
        state = await handle.query("status", page, result_type=RunState, rpc_timeout=QUERY_TIMEOUT)
        steps += state.steps
        if state.next_page_token is None:
            return state.model_copy(update={"steps": steps})
        page = StatusPage(page_token=state.next_page_token)


def listed_status(execution_status: WorkflowExecutionStatus | None, kasal: Any) -> RunStatus:
    """A run's status from what visibility holds: the workflow's own KasalStatus while it
    is open, Temporal's close status once it has closed."""
    if execution_status == WorkflowExecutionStatus.RUNNING:
        return RunStatus(kasal) if kasal else RunStatus.RUNNING
    if execution_status == WorkflowExecutionStatus.COMPLETED:
        return RunStatus.REJECTED if kasal == RunStatus.REJECTED else RunStatus.COMPLETED
    return CLOSED_STATUS.get(execution_status or WorkflowExecutionStatus.FAILED, RunStatus.FAILED)


def optional_uuid(value: str | None) -> uuid.UUID | None:
    """A search attribute's UUID; None if absent or malformed (the run is listed anyway)."""
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None
