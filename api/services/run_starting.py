"""Starting runs: compile the chosen version with the inputs and start one Temporal
workflow; the same Idempotency-Key finds the run it started before."""

from __future__ import annotations

import uuid
from typing import Any

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from api.errors import NotFound, Unavailable
from api.schemas.runs import RunCreate, RunCreated
from api.services.run_access import RunAccess, RunHandle, listed_status
from api.services.run_budgets import with_budget
from api.temporal import TemporalGateway
from db.base import utcnow
from db.run_plans import VersionMissing, compile_version
from db.secrets import SecretBox
from db.uow import UnitOfWork
from kasal.settings import Settings
from kasal.tracing import trace_memo
from workflows.agent_workflow_v2 import AgentWorkflowV2
from workflows.engine.state import AgentWorkflowV2Input, RunData
from workflows.plan import Plan
from workflows.run_launch import run_details, run_search_attributes, run_summary
from workflows.run_state import AgentWorkflowResult
from workflows.search_attributes import KASAL_STATUS, KASAL_VERSION
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
        plan = await with_budget(self.uow, plan, data.budget)
        # A key seen before finds its run when the start is refused: no lookup first.
        return await self.start(plan, new_run_id(workflow_id, idempotency_key))

    async def compile(
        self, workflow_id: uuid.UUID, version: int | None, inputs: dict[str, Any]
    ) -> Plan:
        """The plan of a version (the latest by default), with what a run's links need."""
        try:
            return await compile_version(
                self.uow, self.secrets, self.settings, workflow_id, version, inputs
            )
        except VersionMissing as missing:
            raise NotFound(str(missing)) from None

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
        try:
            handle = await client.start_workflow(
                AgentWorkflowV2.run,
                AgentWorkflowV2Input(plan=plan, state=state),
                id=run_id,
                task_queue=self.settings.KASAL_TASK_QUEUE,
                search_attributes=run_search_attributes(meta, utcnow(), forked_from=forked_from),
                static_summary=run_summary(meta),
                static_details=run_details(meta),
                # The trace of this request, which the run's spans join: its console links to it.
                memo=trace_memo(),
                # With an Idempotency-Key the run id is derived from it: a request sent
                # again, or racing another with the same key, is refused the start, open
                # run or closed, and answers with the run the first one started.
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            return await self._replay(client, workflow_id, run_id)
        except RPCError as err:  # overloaded, or gone: the client may send it again
            raise Unavailable(f"Temporal did not start the run: {err.message}") from None
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
