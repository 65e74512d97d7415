"""Forking runs: start a new run that reuses the parent's finished steps before a step.

The user iterates on one prompt deep in a long workflow without paying again for the
steps before it (workflows/engine/fork.py holds the rule for what is reused).
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
from workflows.compiler import CompilationFailed, CompileError
from workflows.engine.fork import plan_fork
from workflows.engine.state import AgentWorkflowV2Input
from workflows.plan import Plan
from workflows.run_state import AgentWorkflowInput, StepState
from workflows.task_step import preview


class RunForker(RunStarter):
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
        created = await self.start(
            plan,
            new_run_id(workflow_id, idempotency_key),
            state=fork.state,
            forked_from=(run_id, request.from_step),
        )
        return ForkCreated(
            **created.model_dump(),
            forked_from=ForkedFrom(run_id=run_id, step_id=request.from_step),
            reused=fork.reused,
            rerun=fork.rerun,
        )

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
