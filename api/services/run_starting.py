"""Starting runs: compile the chosen version with the inputs and start one Temporal
workflow; the same Idempotency-Key finds the run it started before."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.errors import NotFound
from api.schemas.runs import RunCreate, RunCreated
from api.services.run_access import RunAccess, RunHandle, listed_status
from api.temporal import TemporalGateway
from db.base import utcnow
from db.secrets import SecretBox
from db.uow import UnitOfWork
from db.user_tools import load_user_tools
from kasal.settings import Settings
from workflows.agent_workflow_v2 import AgentWorkflowV2
from workflows.compiler import compile_plan
from workflows.engine.state import AgentWorkflowV2Input, RunData
from workflows.plan import Plan, RunMeta
from workflows.run_state import AgentWorkflowResult
from workflows.search_attributes import (
    KASAL_FORKED_FROM,
    KASAL_FORKED_FROM_STEP,
    KASAL_STARTED_AT,
    KASAL_STATUS,
    KASAL_VERSION,
    KASAL_WORKFLOW_ID,
    KASAL_WORKFLOW_NAME,
    KASAL_WORKSPACE,
)
from workflows.status import RunStatus

IDEMPOTENT_RUNS = uuid.UUID("5b0c1f64-8f59-4f0e-9d55-6f1f3c1d2a77")


class RunStarter(RunAccess):
    def __init__(
        self, uow: UnitOfWork, temporal: TemporalGateway, settings: Settings, secrets: SecretBox
    ) -> None:
        super().__init__(temporal, settings, uow.workspace)
        self.uow = uow
        self.secrets = secrets

    async def create(
        self, workflow_id: uuid.UUID, data: RunCreate, idempotency_key: str | None
    ) -> RunCreated:
        """Compile the chosen version with the inputs and start one Temporal workflow."""
        plan = await self.compile(workflow_id, data.version, data.inputs)
        client = await self.temporal.client()
        run_id = new_run_id(workflow_id, idempotency_key)
        if idempotency_key is not None:
            with contextlib.suppress(NotFound):
                return await self._replay(client, workflow_id, run_id)
        return await self.start(plan, run_id)

    async def compile(
        self, workflow_id: uuid.UUID, version: int | None, inputs: dict[str, Any]
    ) -> Plan:
        """The plan of a version (the latest by default), with what a run's links need."""
        async with self.uow as uow:
            workflow = await uow.workflows.get(workflow_id)
            if workflow is None:
                raise NotFound(f"no workflow {workflow_id}")
            number = version or workflow.latest_version
            stored = await uow.workflows.get_version(workflow_id, number)
            if stored is None:
                raise NotFound(f"workflow {workflow_id} has no version {number}")
            models = await uow.model_configs.names()
            # Pinned at their current versions, without secret values.
            tools = await load_user_tools(uow, self.secrets)
            name = workflow.name
        plan = compile_plan(stored.spec, inputs, models, tools)
        return plan.model_copy(
            update={
                "meta": RunMeta(
                    workflow_id=str(workflow_id),
                    workflow_name=name,
                    version=number,
                    webhook_url=plan.meta.webhook_url or self.settings.KASAL_WEBHOOK_URL,
                    slack_webhook_url=(
                        plan.meta.slack_webhook_url or self.settings.KASAL_SLACK_WEBHOOK_URL
                    ),
                    app_url=self.settings.app_url,
                    temporal_web_url=self.settings.temporal_ui_url,
                    workspace=self.workspace,
                    content_free_summaries=self.settings.KASAL_PAYLOAD_ENCRYPTION_KEY is not None,
                )
            }
        )

    async def start(
        self,
        plan: Plan,
        run_id: str,
        state: RunData | None = None,
        forked_from: tuple[str, str] | None = None,
    ) -> RunCreated:
        """Start a run of ``plan``; a fork starts from ``state`` and names where it came from."""
        client = await self.temporal.client()
        meta = plan.meta
        workflow_id = uuid.UUID(meta.workflow_id)
        attributes = [
            SearchAttributePair(KASAL_WORKFLOW_ID, meta.workflow_id),
            SearchAttributePair(KASAL_WORKFLOW_NAME, meta.workflow_name),
            SearchAttributePair(KASAL_VERSION, meta.version),
            SearchAttributePair(KASAL_STATUS, RunStatus.RUNNING.value),
            SearchAttributePair(KASAL_STARTED_AT, utcnow()),
            SearchAttributePair(KASAL_WORKSPACE, self.workspace),
        ]
        if forked_from is not None:
            attributes += [
                SearchAttributePair(KASAL_FORKED_FROM, forked_from[0]),
                SearchAttributePair(KASAL_FORKED_FROM_STEP, forked_from[1]),
            ]
        try:
            handle = await client.start_workflow(
                AgentWorkflowV2.run,
                AgentWorkflowV2Input(plan=plan, state=state),
                id=run_id,
                task_queue=self.settings.KASAL_TASK_QUEUE,
                search_attributes=TypedSearchAttributes(attributes),
                static_summary=_run_summary(meta),
                static_details=_run_details(meta),
                # With an Idempotency-Key the run id is derived from it: a request racing
                # another with the same key finds the run that one started, open or closed.
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            return await self._replay(client, workflow_id, run_id)
        return RunCreated(
            run_id=run_id,
            workflow_id=workflow_id,
            version=meta.version,
            status=RunStatus.RUNNING,
            temporal=self._link(run_id, handle.result_run_id),
        )

    async def _replay(self, client: Client, workflow_id: uuid.UUID, run_id: str) -> RunCreated:
        """The run an earlier request with the same Idempotency-Key started, as it is now:
        the status is the one the runs list shows, not the `running` it started with."""
        handle: RunHandle = client.get_workflow_handle(run_id, result_type=AgentWorkflowResult)
        description = await self._describe(handle)
        attributes = description.typed_search_attributes
        return RunCreated(
            run_id=run_id,
            workflow_id=workflow_id,
            version=attributes.get(KASAL_VERSION) or 0,
            status=listed_status(description.status, attributes.get(KASAL_STATUS)),
            temporal=self._link(run_id, description.run_id),
        )


def new_run_id(workflow_id: uuid.UUID, idempotency_key: str | None) -> str:
    if idempotency_key is None:
        return f"run-{uuid.uuid4()}"
    return f"run-{uuid.uuid5(IDEMPOTENT_RUNS, f'{workflow_id}/{idempotency_key}')}"


def _run_summary(meta: RunMeta) -> str:
    """What Temporal Web shows of the run: stored in plain text even when payloads are
    encrypted, so then only ids."""
    if meta.content_free_summaries:
        return f"Kasal run · v{meta.version}"
    return f"{meta.workflow_name} · v{meta.version}"


def _run_details(meta: RunMeta) -> str:
    if meta.content_free_summaries:
        return f"Kasal workflow {meta.workflow_id}, version {meta.version}"
    return f"Kasal workflow {meta.workflow_name} ({meta.workflow_id}), version {meta.version}"
