"""Forking runs: start a new run that reuses the parent's finished steps before a step.

The user iterates on one prompt deep in a long workflow without paying again for the
steps before it (workflows/engine/fork.py holds the rule for what is reused).

A reused step's output and transcript, where they are in the blob store, are copied to
the fork: a run's blobs go when Temporal drops the run (db/retention.py), and the fork
may outlive its parent.
"""

from __future__ import annotations

import uuid

from temporalio.api.enums.v1 import EventType

from api.errors import NotFound
from api.schemas.forks import ForkCreated, ForkRequest
from api.schemas.runs import ForkedFrom
from api.services.run_access import LEGACY_WORKFLOW_TYPE, RunHandle
from api.services.run_reading import RunReader
from api.services.run_starting import RunStarter, new_run_id
from api.temporal import TemporalGateway
from db.blobs import BlobStore
from db.call_journal import CallJournal
from db.payload_store import PayloadMissing
from db.secrets import SecretBox
from db.uow import UnitOfWork
from kasal.settings import Settings
from workflows.compiler import CompilationFailed, CompileError
from workflows.engine.fork import plan_fork
from workflows.engine.state import AgentWorkflowV2Input
from workflows.plan import Plan
from workflows.run_state import AgentWorkflowInput, StepState
from workflows.task_step import preview


class RunForker(RunStarter):
    def __init__(
        self,
        uow: UnitOfWork,
        temporal: TemporalGateway,
        settings: Settings,
        blobs: BlobStore,
        secrets: SecretBox,
    ) -> None:
        super().__init__(uow, temporal, settings, secrets)
        self.blobs = blobs

    async def fork(
        self, run_id: str, request: ForkRequest, reader: RunReader, idempotency_key: str | None
    ) -> ForkCreated:
        handle = await self._handle(run_id)
        description = await self._describe(handle)
        parent_plan = await self._plan_of(handle, description.workflow_type)
        if not parent_plan.meta.workflow_id:
            raise NotFound(f"run {run_id} names no saved workflow to fork")
        _require_step(parent_plan, request.from_step, "the parent run")
        workflow_id = uuid.UUID(parent_plan.meta.workflow_id)
        plan = await self.compile(
            workflow_id,
            request.version or parent_plan.meta.version,
            parent_plan.inputs if request.inputs is None else request.inputs,
        )
        _require_step(plan, request.from_step, f"version {plan.meta.version}")
        parent = await reader.get(run_id)
        parent_steps = {s.id: _as_held(s) for s in parent.steps}
        fork = plan_fork(run_id, parent_plan, parent_steps, plan, request.from_step)
        fork_id = new_run_id(workflow_id, idempotency_key)
        await self._copy_blobs(run_id, [fork.state.steps[s] for s in fork.reused], fork_id)
        created = await self.start(
            plan,
            fork_id,
            state=fork.state,
            forked_from=(run_id, request.from_step),
        )
        return ForkCreated(
            **created.model_dump(),
            forked_from=ForkedFrom(run_id=run_id, step_id=request.from_step),
            reused=fork.reused,
            rerun=fork.rerun,
        )

    async def _copy_blobs(self, parent_id: str, reused: list[StepState], fork_id: str) -> None:
        """Point the reused steps at copies of their blobs kept under the fork's id.

        Before the fork starts: its input holds the refs. Copies are derived from the
        fork's id, so a repeated request (same Idempotency-Key) makes no new ones.
        """
        refs = [ref for step in reused for ref in (step.output_ref, step.transcript_ref) if ref]
        copies = await self.blobs.copy_to_run(refs, fork_id)
        if missing := [ref for ref in refs if ref not in copies]:
            raise PayloadMissing(f"run {parent_id}'s blobs {missing} are not in the blob store")
        for step in reused:
            if step.output_ref:
                step.output_ref = copies[step.output_ref]
            if step.transcript_ref:
                step.transcript_ref = copies[step.transcript_ref]
        # The transcripts refer to calls in the journal, which lives beside the blobs.
        await CallJournal(self.blobs).copy_steps(parent_id, fork_id, [step.id for step in reused])

    async def _plan_of(self, handle: RunHandle, workflow_type: str) -> Plan:
        """The plan pinned in the run's input (its latest execution's, which is the same)."""
        client = await self.temporal.client()
        async for event in handle.fetch_history_events():
            if event.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
                break
            kind = AgentWorkflowInput if workflow_type == LEGACY_WORKFLOW_TYPE else None
            payloads = event.workflow_execution_started_event_attributes.input.payloads
            [run_input] = await client.data_converter.decode(
                payloads[:1], [kind or AgentWorkflowV2Input]
            )
            return run_input.plan  # type: ignore[no-any-return]
        raise NotFound(f"run {handle.id} has no recorded input")


def _require_step(plan: Plan, step_id: str, where: str) -> None:
    if all(step.id != step_id for step in plan.steps):
        raise CompilationFailed(
            [CompileError(loc=["from_step"], msg=f"{where} has no step '{step_id}'")]
        )


def _as_held(step: StepState) -> StepState:
    """A step as the run holds it: a preview where the whole output is in the blob store."""
    held = StepState.model_validate(step.model_dump(exclude={"transcript"}))
    held.output_ref, held.transcript_ref = step.output_ref, step.transcript_ref
    if held.output_ref and held.output is not None:
        held.output = preview(held.output)
    return held
