"""AgentWorkflowV2: the run's rules are a reducer; this workflow only feeds it events.

Every run started since v2 runs here. Runs started earlier finish on ``AgentWorkflow``.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import NoReturn

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows.approver_notice import start_approver_notice
from workflows.child_runs import run_child, tell_parent
from workflows.children import (
    CHILD_STATUS_SIGNAL,
    ChildStatus,
)
from workflows.engine.events import (
    AllowanceRequested,
    BudgetRaised,
    CancelGateTimer,
    CancelRequested,
    CancelTask,
    ChildStatusChanged,
    Command,
    ContinueAsNewSuggested,
    Notify,
    NotifyApprovers,
    RunEvent,
    RunStarted,
    StartChild,
    StartGateAlarm,
    StartGateTimer,
    StartTask,
    StoreMapResults,
    UpsertApprovers,
    UpsertCost,
    UpsertStatus,
)
from workflows.engine.gates import (
    OperatorRequest,
    refusal,
    requested_step,
    result_in_flight,
)
from workflows.engine.reducer import reduce
from workflows.engine.state import AgentWorkflowV2Input, RunData
from workflows.engine.transitions import PlanGraph, Transition
from workflows.engine.views import page_of_steps, run_result, run_summary
from workflows.gate_timer_tasks import GateTimers
from workflows.map_results import store_map_results
from workflows.notify import start_notification
from workflows.operator_requests import decided, retry_requested, skip_requested
from workflows.plan import BudgetLimits, PlanTaskStep
from workflows.run_state import (
    AgentWorkflowResult,
    Decision,
    RunState,
    StatusPage,
    StepState,
)
from workflows.search_attributes import (
    KASAL_APPROVERS,
    KASAL_COST_MICROS,
    KASAL_STATUS,
)
from workflows.step_actions import BudgetChange, StepAction
from workflows.task_runs import run_task
from workflows.task_step import (
    REQUEST_ALLOWANCE,
    Allowance,
    AllowanceRequest,
)

# Approver notices (ApproverNoticeWorkflow) and the KasalApprovers search attribute are
# new commands: histories from before them replay without.
APPROVERS_NOTIFIED = "approvers-notified-and-searchable"
# How long a request refused for a result in flight (gates.result_in_flight) waits for
# it. A result the operator saw is in the workflow task that brings the request, so it
# is applied at once; only a request naming an execution or round it never saw waits
# this long to be refused.
RESULT_IN_FLIGHT_WAIT = timedelta(seconds=1)


@workflow.defn(name="AgentWorkflowV2")
class AgentWorkflowV2:
    """Runs a compiled plan of agent tasks and approval gates, and never loses a finished step.

    The plan arrives pinned in the input. The run's whole state is one ``RunData``,
    changed only by ``reduce``: activity results, gate deadlines, decisions, retries,
    skips and a cancel are events; starting and cancelling activities, timers, webhooks
    and search-attribute upserts are the commands it returns, which this class carries
    out. When Temporal suggests it, no new task starts; once none is running the run
    continues as new, carrying ``RunData`` whole.
    """

    @workflow.init
    def __init__(self, input: AgentWorkflowV2Input) -> None:
        self._plan = input.plan
        self._graph = PlanGraph(input.plan)
        self._run = input.state or RunData.for_plan(input.plan)
        self._approvers_notified = False  # decided at the top of run()
        self._activities: dict[str, asyncio.Task[None]] = {}
        self._timers = GateTimers(self._feed)
        self._notifications: list[asyncio.Task[None]] = []

    @workflow.run
    async def run(self, input: AgentWorkflowV2Input) -> AgentWorkflowResult:
        # Decided once, first thing: a patch first asked inside an update handler put its
        # marker among the update's commands, which a replay after a worker was lost read
        # out of order (NondeterminismError in tests/fuzz, a killed worker then a retry).
        self._approvers_notified = workflow.patched(APPROVERS_NOTIFIED)
        self._feed(RunStarted(at=workflow.now()))
        try:
            while not self._run.is_finished():
                if self._ready_to_continue_as_new():
                    await self._continue_as_new()
                await workflow.wait_condition(self._needs_attention)
                if not self._run.draining and workflow.info().is_continue_as_new_suggested():
                    self._feed(ContinueAsNewSuggested(at=workflow.now()))
        except asyncio.CancelledError:
            # Cancelling a run closes it like a failure does: activities are asked to
            # stop and are waited for, gates and paused steps end cancelled.
            self._feed(CancelRequested(at=workflow.now()))
            await workflow.wait_condition(self._run.is_finished)
            await self._close()
            raise
        await self._close()
        closing = self._run.closing
        if closing is not None and closing.status == "failed":
            raise ApplicationError(
                closing.message, run_summary(self._run), type="RunFailed", non_retryable=True
            )
        return run_result(self._run, self._plan)

    # --- messages -----------------------------------------------------------------------

    @workflow.query
    def status(self, page: StatusPage | None = None) -> RunState:
        return page_of_steps(self._run, page or StatusPage())

    @workflow.update
    async def decide(self, decision: Decision) -> StepState:
        await self._result_in_flight_applied(decided(decision, "update"))
        return self._answer(decided(decision, "update"))

    @decide.validator
    def _validate_decide(self, decision: Decision) -> None:
        self._validate(decided(decision, "update"))

    @workflow.signal
    def decision(self, decision: Decision) -> None:
        # A signal cannot be refused, so a bad one is recorded and ignored, never raised.
        transition = self._feed(decided(decision, "signal"))
        if transition.refusal is not None:
            state = self._run.steps.get(decision.step_id)
            message = f"ignored decision signal: {transition.refusal.message}"
            if state is not None:
                state.log.append(message)
            else:
                workflow.logger.warning(message)

    @workflow.signal(name=CHILD_STATUS_SIGNAL)
    def child_status(self, report: ChildStatus) -> None:
        self._feed(
            ChildStatusChanged(
                at=workflow.now(),
                step_id=report.step_id,
                child_run_id=report.child_run_id,
                status=report.status,
            )
        )

    @workflow.update
    async def retry_step(self, action: StepAction) -> StepState:
        await self._result_in_flight_applied(retry_requested(action))
        return self._answer(retry_requested(action))

    @retry_step.validator
    def _validate_retry_step(self, action: StepAction) -> None:
        self._validate(retry_requested(action))

    @workflow.update
    async def skip_step(self, action: StepAction) -> StepState:
        await self._result_in_flight_applied(skip_requested(action))
        return self._answer(skip_requested(action))

    @skip_step.validator
    def _validate_skip_step(self, action: StepAction) -> None:
        self._validate(skip_requested(action))

    @workflow.update(name=REQUEST_ALLOWANCE)
    def request_allowance(self, request: AllowanceRequest) -> Allowance | None:
        """A running step's activity asks for more of the budget (engine/budget.py)."""
        event = AllowanceRequested(
            at=workflow.now(),
            step_id=request.step_id,
            execution=request.execution,
            needed=request.needed,
        )
        return self._feed(event).allowance

    @workflow.update
    def raise_budget(self, change: BudgetChange) -> BudgetLimits | None:
        """An operator's new limits; a step paused over budget is then retried or skipped."""
        self._feed(BudgetRaised(at=workflow.now(), limits=change.limits, actor=change.actor))
        return self._run.budget

    def _validate(self, request: OperatorRequest) -> None:
        problem = refusal(self._run, request)
        if problem is not None and not result_in_flight(self._run, request, problem):
            raise ApplicationError(problem.message, type=problem.type)

    async def _result_in_flight_applied(self, request: OperatorRequest) -> None:
        """Let the results that came with the request apply before it is judged."""

        def applied() -> bool:
            problem = refusal(self._run, request)
            return problem is None or not result_in_flight(self._run, request, problem)

        if not applied():
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    applied,
                    timeout=RESULT_IN_FLIGHT_WAIT,
                    timeout_summary=f"{requested_step(request)}: a result in flight",
                )

    def _answer(self, request: OperatorRequest) -> StepState:
        """Apply the request; a second one that passed validation with it is refused here."""
        transition = self._feed(request)
        if transition.refusal is not None:
            raise ApplicationError(transition.refusal.message, type=transition.refusal.type)
        assert transition.step is not None
        return transition.step

    # --- carrying out commands ----------------------------------------------------------

    def _feed(self, event: RunEvent) -> Transition:
        transition = reduce(self._run, self._graph, event)
        for command in transition.commands:
            self._carry_out(command)
        return transition

    def _carry_out(self, command: Command) -> None:
        if isinstance(command, StartTask):
            self._activities[command.step_id] = asyncio.create_task(self._execute_task(command))
        elif isinstance(command, StartChild):
            self._activities[command.step_id] = asyncio.create_task(self._execute_child(command))
        elif isinstance(command, StoreMapResults):
            self._activities[command.step_id] = asyncio.create_task(self._store_results(command))
        elif isinstance(command, CancelTask):
            self._activities[command.step_id].cancel()
        elif isinstance(command, StartGateTimer):
            self._timers.start_deadline(command)
        elif isinstance(command, StartGateAlarm):
            self._timers.start_alarm(command)
        elif isinstance(command, CancelGateTimer):
            self._timers.cancel_gate(command)
        elif isinstance(command, Notify):
            self._notify(command)
        elif isinstance(command, NotifyApprovers):
            self._notify_approvers(command)
        elif isinstance(command, UpsertStatus):
            workflow.upsert_search_attributes([KASAL_STATUS.value_set(command.status.value)])
            if self._plan.meta.parent_run_id is not None:
                self._notifications.append(
                    asyncio.create_task(tell_parent(self._plan.meta, command.status))
                )
        elif isinstance(command, UpsertCost):
            workflow.upsert_search_attributes([KASAL_COST_MICROS.value_set(command.cost_micros)])
        elif isinstance(command, UpsertApprovers):
            if self._approvers_notified:
                workflow.upsert_search_attributes(
                    [
                        KASAL_APPROVERS.value_set(command.approvers)
                        if command.approvers
                        else KASAL_APPROVERS.value_unset()
                    ]
                )

    async def _execute_task(self, command: StartTask) -> None:
        try:
            step = self._graph.steps[command.step_id]
            assert isinstance(step, PlanTaskStep)
            ended = await run_task(self._plan, step, self._run, command)
        finally:
            self._activities.pop(command.step_id, None)
        self._feed(ended)

    async def _execute_child(self, command: StartChild) -> None:
        step = self._graph.steps[command.step_id]
        try:
            ended = await run_child(self._plan, step, command, self._run, self._feed)
        finally:
            self._activities.pop(command.step_id, None)
        self._feed(ended)

    async def _store_results(self, command: StoreMapResults) -> None:
        try:
            stored = await store_map_results(command)
        finally:
            self._activities.pop(command.step_id, None)
        self._feed(stored)

    def _notify(self, command: Notify) -> None:
        if not self._plan.meta.webhook_url:
            return
        self._run.notifications += 1
        self._notifications.append(
            asyncio.create_task(
                start_notification(
                    self._plan.meta,
                    self._run.notifications,
                    command.event,
                    command.status.value,
                    command.step_id,
                )
            )
        )

    def _notify_approvers(self, command: NotifyApprovers) -> None:
        meta = self._plan.meta
        if not (meta.slack_webhook_url or command.recipients):
            return
        if not self._approvers_notified:
            return
        state = self._run.steps[command.step_id]
        self._notifications.append(
            asyncio.create_task(
                start_approver_notice(
                    meta,
                    command.notice,
                    step_id=command.step_id,
                    round=command.round,
                    message=state.message or "",
                    approvers=list(state.approvers),
                    recipients=command.recipients,
                )
            )
        )

    # --- closing and continuing ---------------------------------------------------------

    def _needs_attention(self) -> bool:
        return (
            self._run.is_finished()
            or self._ready_to_continue_as_new()
            or (not self._run.draining and workflow.info().is_continue_as_new_suggested())
        )

    def _ready_to_continue_as_new(self) -> bool:
        return (
            self._run.draining
            and self._run.closing is None
            and not self._activities
            and workflow.all_handlers_finished()
        )

    async def _continue_as_new(self) -> NoReturn:
        await asyncio.gather(*self._notifications)
        workflow.continue_as_new(AgentWorkflowV2Input(plan=self._plan, state=self._run))

    async def _close(self) -> None:
        self._timers.cancel_all()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await asyncio.gather(*self._notifications)
