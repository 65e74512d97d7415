"""AgentWorkflow: one generic, deterministic Temporal workflow that runs a compiled plan."""

from __future__ import annotations

import asyncio
import heapq
from datetime import timedelta
from typing import NoReturn

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.notify import start_notification
from workflows.plan import AnyPlanStep, Plan, PlanApprovalStep, PlanTaskStep
from workflows.run_state import (
    AgentWorkflowInput,
    AgentWorkflowResult,
    CarriedState,
    Decision,
    RecordedDecision,
    RunState,
    StepState,
)
from workflows.search_attributes import KASAL_STATUS
from workflows.status import SATISFIED, RunStatus, StepStatus, open_run_status
from workflows.step_actions import StepAction, refusal
from workflows.task_activity import (
    HEARTBEAT_TIMEOUT,
    activity_id,
    activity_summary,
    attempts_used,
    failure_message,
    retry_policy,
)
from workflows.task_step import RUN_TASK_STEP, RunTaskStepInput, RunTaskStepResult, StepContext


class _RunFailed(Exception):
    """A step failed for good and its definition chose to fail the run."""


@workflow.defn(name="AgentWorkflow")
class AgentWorkflow:
    """Runs a compiled plan of agent tasks and approval gates, and never loses a finished step.

    The plan arrives pinned in the input, so editing a definition never touches a
    running run. Every step whose dependencies are satisfied starts, in plan order;
    independent steps run in parallel, at most ``max_parallel`` activities at once.
    A task step is the ``run_task_step`` activity, retried by Temporal as the step's
    retry policy says. When it fails for good it either pauses, waiting for an
    operator to retry or skip it, or fails the run. An approval gate waits, with no
    polling, for a ``decide`` update or a ``decision`` signal, or for its deadline.
    The ``status`` query shows every step at any time.

    When Temporal suggests it, the run stops starting steps, lets the activities in
    flight finish, and continues as new with its state: finished steps, waiting gates
    with their absolute deadlines, and paused steps all carry over.
    """

    @workflow.init
    def __init__(self, input: AgentWorkflowInput) -> None:
        self._plan: Plan = input.plan
        carried = input.carried or CarriedState()
        self._steps = {s.id: StepState(id=s.id, type=s.type) for s in self._plan.steps}
        self._steps.update({s.id: s for s in carried.steps})
        self._index = {s.id: i for i, s in enumerate(self._plan.steps)}
        self._dependents: dict[str, list[str]] = {s.id: [] for s in self._plan.steps}
        for step in self._plan.steps:
            for dep in step.after:
                self._dependents[dep].append(step.id)
        self._unmet = {
            s.id: sum(1 for dep in s.after if self._steps[dep].status not in SATISFIED)
            for s in self._plan.steps
        }
        self._ready = [
            self._index[s.id]
            for s in self._plan.steps
            if self._unmet[s.id] == 0 and self._steps[s.id].status == StepStatus.PENDING
        ]
        # Gates and paused steps that were waiting when the previous run continued as new.
        self._resume = [
            s
            for s in self._plan.steps
            if self._steps[s.id].status in (StepStatus.WAITING, StepStatus.PAUSED)
        ]
        self._running_activities = 0
        self._active: dict[str, asyncio.Task[None]] = {}
        self._changed = False
        self._failure: str | None = None
        self._rejected = False
        self._pending_decisions = {d.step_id: d for d in carried.pending_decisions}
        self._pending_actions: dict[str, StepAction] = {}
        self._feedback = dict(carried.feedback)
        self._executions = {s.id: carried.executions.get(s.id, 0) for s in self._plan.steps}
        self._published_status: RunStatus | None = None
        self._draining = False
        self._notifications = 0

    @workflow.run
    async def run(self, input: AgentWorkflowInput) -> AgentWorkflowResult:
        try:
            for step in self._resume:
                self._active[step.id] = asyncio.create_task(self._run_step(step))
            while True:
                if not self._draining and workflow.info().is_continue_as_new_suggested():
                    self._draining = True
                self._start_ready_steps()
                self._publish_status(self._run_status())
                if not self._active and (self._closing() or not self._ready):
                    break
                if self._ready_to_continue_as_new():
                    self._continue_as_new()
                await workflow.wait_condition(
                    lambda: self._changed or self._ready_to_continue_as_new()
                )
                self._changed = False
        except asyncio.CancelledError:
            self._stop_active_steps()
            self._publish_status(RunStatus.CANCELLED)
            await self._notify("run_closed", RunStatus.CANCELLED)
            raise
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._failure is not None:
            self._publish_status(RunStatus.FAILED)
            await self._notify("run_closed", RunStatus.FAILED)
            raise ApplicationError(
                self._failure, self.status(), type="RunFailed", non_retryable=True
            )
        result = self._result()
        self._publish_status(RunStatus(result.outcome))
        await self._notify("run_closed", RunStatus(result.outcome))
        return result

    # --- messages -----------------------------------------------------------------------

    @workflow.query
    def status(self) -> RunState:
        steps = list(self._steps.values())
        return RunState(status=self._run_status(), steps=steps)

    @workflow.update
    async def decide(self, decision: Decision) -> StepState:
        self._pending_decisions[decision.step_id] = RecordedDecision(
            **decision.model_dump(), decided_at=workflow.now()
        )
        self._changed = True
        await workflow.wait_condition(lambda: decision.step_id not in self._pending_decisions)
        return self._steps[decision.step_id]

    @decide.validator
    def _validate_decide(self, decision: Decision) -> None:
        problem = self._decision_problem(decision)
        if problem is not None:
            raise ApplicationError(problem[1], type=problem[0])

    @workflow.signal
    def decision(self, decision: Decision) -> None:
        # A signal cannot be refused, so a bad one is recorded and ignored, never raised.
        problem = self._decision_problem(decision)
        if problem is not None:
            state = self._steps.get(decision.step_id)
            if state is not None:
                state.log.append(f"ignored decision signal: {problem[1]}")
            else:
                workflow.logger.warning("ignored decision signal: %s", problem[1])
            return
        self._pending_decisions[decision.step_id] = RecordedDecision(
            **decision.model_dump(), decided_at=workflow.now()
        )
        self._changed = True

    @workflow.update
    async def retry_step(self, action: StepAction) -> StepState:
        return await self._act_on_paused_step(action.model_copy(update={"output": None}))

    @retry_step.validator
    def _validate_retry_step(self, action: StepAction) -> None:
        self._validate_step_action(action)

    @workflow.update
    async def skip_step(self, action: StepAction) -> StepState:
        return await self._act_on_paused_step(
            action.model_copy(update={"output": action.output or ""})
        )

    @skip_step.validator
    def _validate_skip_step(self, action: StepAction) -> None:
        self._validate_step_action(action)

    # --- scheduling ---------------------------------------------------------------------

    def _closing(self) -> bool:
        """A step failed the run or a gate rejected it: nothing new starts."""
        return self._failure is not None or self._rejected

    def _start_ready_steps(self) -> None:
        if self._closing() or self._draining:
            return
        deferred: list[int] = []
        while self._ready:
            index = heapq.heappop(self._ready)
            step = self._plan.steps[index]
            if isinstance(step, PlanTaskStep):
                if self._running_activities >= self._plan.max_parallel:
                    deferred.append(index)
                    continue
                self._running_activities += 1
            self._active[step.id] = asyncio.create_task(self._run_step(step, slot_taken=True))
        for index in deferred:
            heapq.heappush(self._ready, index)

    async def _run_step(self, step: AnyPlanStep, slot_taken: bool = False) -> None:
        # v1 runs plans compiled before branches, maps, loops and sub-workflows existed.
        assert isinstance(step, PlanTaskStep | PlanApprovalStep)
        try:
            if isinstance(step, PlanTaskStep):
                await self._run_task(step, slot_taken)
            else:
                await self._run_gate(step)
        except _RunFailed as failure:
            self._failure = str(failure)
            self._stop_active_steps(except_id=step.id)
        finally:
            self._active.pop(step.id, None)
            self._changed = True
        if self._steps[step.id].status in SATISFIED:
            for dependent in self._dependents[step.id]:
                self._unmet[dependent] -= 1
                if self._unmet[dependent] == 0:
                    heapq.heappush(self._ready, self._index[dependent])

    def _stop_active_steps(self, except_id: str | None = None) -> None:
        for step_id, task in list(self._active.items()):
            if step_id != except_id:
                task.cancel()
                self._steps[step_id].status = StepStatus.CANCELLED
                self._steps[step_id].finished_at = workflow.now()

    # --- task steps ---------------------------------------------------------------------

    async def _run_task(self, step: PlanTaskStep, slot_taken: bool = False) -> None:
        """Run the step's activity; on a final failure pause for an operator or fail the run.

        ``slot_taken``: the scheduler already counted this step against max_parallel.
        """
        state = self._steps[step.id]
        while True:
            if state.status != StepStatus.PAUSED:
                if not slot_taken:
                    await workflow.wait_condition(
                        lambda: self._running_activities < self._plan.max_parallel
                    )
                    self._running_activities += 1
                slot_taken = False
                try:
                    error = await self._attempt_task(step, state)
                finally:
                    self._running_activities -= 1
                    self._changed = True
                if error is None:
                    return
                if step.on_failure == "fail":
                    state.status = StepStatus.FAILED
                    raise _RunFailed(f"step '{step.id}' failed: {error}")
                state.status = StepStatus.PAUSED
                await self._notify("needs_attention", RunStatus.NEEDS_ATTENTION, step.id)
            action = await self._wait_for_action(step.id)
            if action.output is not None:
                state.status = StepStatus.SKIPPED
                state.output = action.output
                state.output_ref = action.output_ref
                state.error = None
                state.finished_at = workflow.now()
                state.log.append(f"skipped by {action.actor or 'an operator'}")
                return
            state.status = StepStatus.PENDING  # until a slot is free for the retry
            state.log.append(f"retried by {action.actor or 'an operator'}")

    async def _attempt_task(self, step: PlanTaskStep, state: StepState) -> str | None:
        """One activity execution with Temporal's retries; returns the error if it failed."""
        state.status = StepStatus.RUNNING
        state.started_at = state.started_at or workflow.now()
        state.finished_at = None
        state.error = None
        previous_attempts = state.attempt
        state.attempt += 1
        self._executions[step.id] += 1
        self._changed = True
        agent = self._plan.agents[step.agent]
        try:
            result = await workflow.execute_activity(
                RUN_TASK_STEP,
                RunTaskStepInput(
                    run_id=workflow.info().workflow_id,
                    step_id=step.id,
                    agent=agent,
                    description=step.description,
                    expected_output=step.expected_output,
                    inputs=self._plan.inputs,
                    context=self._context_for(step),
                    feedback=self._feedback.get(step.id),
                ),
                result_type=RunTaskStepResult,
                activity_id=activity_id(step.id, self._executions[step.id]),
                start_to_close_timeout=timedelta(seconds=step.timeout_seconds),
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=retry_policy(step),
                summary=activity_summary(agent, step),
            )
        except ActivityError as err:
            state.attempt = previous_attempts + attempts_used(err, step)
            state.error = failure_message(err)
            state.finished_at = workflow.now()
            self._changed = True
            return state.error
        state.attempt = previous_attempts + result.attempt
        state.status = StepStatus.COMPLETED
        state.output = result.output
        state.output_ref = result.output_ref
        state.usage = result.usage if state.usage is None else state.usage + result.usage
        state.transcript_ref = result.transcript_ref
        state.finished_at = workflow.now()
        return None

    def _context_for(self, step: PlanTaskStep) -> list[StepContext]:
        return [
            StepContext(
                step_id=upstream,
                output=self._steps[upstream].output or "",
                output_ref=self._steps[upstream].output_ref,
            )
            for upstream in step.context_from
            if self._steps[upstream].output is not None
        ]

    async def _wait_for_action(self, step_id: str) -> StepAction:
        self._changed = True
        await workflow.wait_condition(lambda: step_id in self._pending_actions)
        return self._pending_actions[step_id]

    async def _act_on_paused_step(self, action: StepAction) -> StepState:
        self._pending_actions[action.step_id] = action
        # The step's coroutine takes the action; answer once it has moved on.
        await workflow.wait_condition(
            lambda: self._steps[action.step_id].status != StepStatus.PAUSED
        )
        del self._pending_actions[action.step_id]
        return self._steps[action.step_id]

    def _validate_step_action(self, action: StepAction) -> None:
        problem = refusal(self._steps.get(action.step_id), action.step_id, StepStatus.PAUSED)
        if problem is not None:
            raise ApplicationError(problem[1], type=problem[0])

    # --- approval gates -----------------------------------------------------------------

    async def _run_gate(self, step: PlanApprovalStep) -> None:
        """Wait for a decision; a reject may send the upstream tasks back with feedback."""
        state = self._steps[step.id]
        state.started_at = state.started_at or workflow.now()
        # A gate carried over continue-as-new keeps its round and its absolute deadline.
        resuming = state.status == StepStatus.WAITING and state.deadline is not None
        while True:
            if not resuming:
                state.round += 1
                state.status = StepStatus.WAITING
                state.message = step.message
                state.waiting_since = workflow.now()
                state.deadline = state.waiting_since + timedelta(seconds=step.timeout_seconds)
                self._changed = True
                await self._notify("waiting_for_approval", RunStatus.WAITING_FOR_APPROVAL, step.id)
            resuming = False
            decision = await self._wait_for_decision(step, state)
            state.decisions.append(decision)
            if decision.decision == "approve":
                state.status = StepStatus.APPROVED
                break
            rejections = sum(1 for d in state.decisions if d.decision == "reject")
            if step.on_reject != "retry_upstream" or rejections > step.max_rejections:
                state.status = StepStatus.REJECTED
                self._rejected = True
                break
            state.status = StepStatus.PENDING
            for task_id in step.upstream_tasks:
                self._feedback[task_id] = decision.comment
            await asyncio.gather(
                *(self._rerun_task(self._plan.step(task_id)) for task_id in step.upstream_tasks)
            )
        state.deadline = None
        state.finished_at = workflow.now()

    async def _wait_for_decision(
        self, step: PlanApprovalStep, state: StepState
    ) -> RecordedDecision:
        assert state.deadline is not None
        remaining = (state.deadline - workflow.now()).total_seconds()
        try:
            await workflow.wait_condition(
                lambda: step.id in self._pending_decisions, timeout=max(remaining, 0.001)
            )
        except TimeoutError:
            if step.on_timeout == "fail":
                state.status = StepStatus.FAILED
                state.error = "no decision before the deadline"
                raise _RunFailed(f"gate '{step.id}' timed out") from None
            return RecordedDecision(
                step_id=step.id,
                decision=step.on_timeout,
                actor="timeout",
                comment="no decision before the deadline",
                round=state.round,
                decided_at=workflow.now(),
            )
        decision = self._pending_decisions.pop(step.id)
        return decision.model_copy(update={"round": state.round})

    async def _rerun_task(self, step: AnyPlanStep) -> None:
        assert isinstance(step, PlanTaskStep)
        await self._run_task(step)

    def _decision_problem(self, decision: Decision) -> tuple[str, str] | None:
        state = self._steps.get(decision.step_id)
        problem = refusal(state, decision.step_id, StepStatus.WAITING)
        if problem is None and state is not None:
            if decision.step_id in self._pending_decisions:
                problem = ("NotWaiting", f"step '{decision.step_id}' is already decided")
            elif decision.round is not None and decision.round != state.round:
                problem = (
                    "StaleRound",
                    f"round {decision.round} is over; step '{decision.step_id}' "
                    f"waits in round {state.round}",
                )
        return problem

    # --- results ------------------------------------------------------------------------

    def _ready_to_continue_as_new(self) -> bool:
        return self._draining and self._running_activities == 0 and workflow.all_handlers_finished()

    def _continue_as_new(self) -> NoReturn:
        carried = CarriedState(
            steps=list(self._steps.values()),
            feedback=self._feedback,
            executions=self._executions,
            pending_decisions=list(self._pending_decisions.values()),
        )
        workflow.continue_as_new(AgentWorkflowInput(plan=self._plan, carried=carried))

    async def _notify(self, event: str, status: RunStatus, step_id: str | None = None) -> None:
        if self._plan.meta.webhook_url:
            self._notifications += 1
            await start_notification(
                self._plan.meta, self._notifications, event, status.value, step_id
            )

    def _publish_status(self, status: RunStatus) -> None:
        """Keep KasalStatus current, so runs can be found by status in Temporal Web too."""
        if status != self._published_status:
            workflow.upsert_search_attributes([KASAL_STATUS.value_set(status.value)])
            self._published_status = status

    def _run_status(self) -> RunStatus:
        return open_run_status([s.status for s in self._steps.values()])

    def _result(self) -> AgentWorkflowResult:
        steps = self._steps.values()
        outputs = {s.id: s.output for s in steps if s.output is not None}
        sinks = [sid for sid in self._plan.sink_ids() if sid in outputs]
        return AgentWorkflowResult(
            outcome="rejected" if self._rejected else "completed",
            outputs=outputs,
            output_refs={s.id: s.output_ref for s in steps if s.output_ref is not None},
            final_step_ids=sinks,
            final_output="\n\n".join(outputs[sid] for sid in sinks),
            steps=list(steps),
        )
