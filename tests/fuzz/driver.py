"""Run a scenario on the real server: script the stub LLM, act as the operators, add faults,
and check the outcome against the reference model."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError

from api.services.run_fold import fold_history
from tests.fuzz.model import Prediction, predict
from tests.fuzz.scenario import KILLS, GateSpec, Scenario, TaskSpec, marker
from tests.fuzz.stack import Rig
from tests.helpers import assert_replays
from tests.stub_llm import Reply, StubLLM
from workflows.agent_workflow_v2 import AgentWorkflowV2
from workflows.compiler import compile_plan
from workflows.engine.state import AgentWorkflowV2Input
from workflows.operator_requests import IDEMPOTENT_UPDATE_PREFIX
from workflows.run_state import AgentWorkflowResult, Decision, RunState, StatusPage, StepState
from workflows.status import RunStatus, StepStatus
from workflows.step_actions import StepAction

S = StepStatus
STUB_REPLIES = {
    "ok": Reply("ok"),
    "500": Reply.error(500, "scripted server error"),
    "401": Reply.error(401, "scripted bad key"),
    "hang": Reply.timeout(),
}
# How long a kill waits for the killed step to be the only one running.
KILL_WAIT_SECONDS = 10.0
# A run that has not changed for this long, with nothing left for an operator to do,
# is where the model says it must wait.
QUIET_SECONDS = 2.5
RUN_DEADLINE_SECONDS = 90

Handle = WorkflowHandle[AgentWorkflowV2, AgentWorkflowResult]


@dataclass
class Outcome:
    status: RunStatus
    steps: dict[str, StepStatus]
    states: list[StepState] = field(default_factory=list)
    refused_twins: int = 0  # concurrent duplicate requests the run refused
    log: list[str] = field(default_factory=list)
    # Steps besides the killed one running when the worker was killed (see _alone_or_waited).
    running_at_kill: set[str] = field(default_factory=set)


class ScenarioRun:
    def __init__(self, scenario: Scenario, rig: Rig, stub: StubLLM) -> None:
        self.scenario = scenario
        self.rig = rig
        self.client = rig.client
        self.stub = stub
        self.pauses_seen: dict[str, int] = {t.id: 0 for t in scenario.tasks()}
        self.executions_acted: set[tuple[str, int]] = set()
        self.rounds_decided: set[tuple[str, int]] = set()
        self.restarts = [f for f in scenario.faults if f not in KILLS]
        self.kill_pending = scenario.kills_a_worker
        self.hang_seen_at: float | None = None
        self.outcome = Outcome(status=RunStatus.RUNNING, steps={})

    @property
    def task_queue(self) -> str:
        if self.scenario.kills_a_worker:
            return self.rig.pool.task_queue
        return self.rig.in_process.task_queue

    async def run(self) -> Outcome:
        self.stub.reset()
        for task in self.scenario.tasks():
            self.stub.script(marker(task.id), *(STUB_REPLIES[r] for r in task.replies))
        plan = compile_plan(self.scenario.definition(), {}, {"stub"})
        handle: Handle = await self.client.start_workflow(
            AgentWorkflowV2.run,
            AgentWorkflowV2Input(plan=plan),
            id=f"fuzz-{uuid.uuid4()}",
            task_queue=self.task_queue,
        )
        self.handle = handle
        deadline = time.monotonic() + RUN_DEADLINE_SECONDS
        last_change = time.monotonic()
        last_seen: object = None
        while time.monotonic() < deadline:
            description = await handle.describe()
            if description.status != WorkflowExecutionStatus.RUNNING:
                return await self._closed(description.status)
            state = await _query(handle)
            seen = [(s.id, s.status, s.round, s.execution) for s in state.steps]
            if seen != last_seen:
                last_seen, last_change = seen, time.monotonic()
            acted = await self._act(state)
            if acted:
                last_change = time.monotonic()
            elif time.monotonic() - last_change > QUIET_SECONDS and _nothing_running(state):
                self._record(state.status, state.steps)
                return self.outcome
            await asyncio.sleep(0.15)
        raise AssertionError(
            f"the run neither closed nor settled: {self.outcome.log}\n"
            f"{await _where_it_stands(handle)}"
        )

    async def _act(self, state: RunState) -> bool:
        """Do what the scenario's operators do about the state; True if anything was done."""
        acted = await self._inject_faults(state)
        for step in state.steps:
            spec = self.scenario.step(step.id)
            if isinstance(spec, TaskSpec) and step.status == S.PAUSED:
                if (step.id, step.execution) not in self.executions_acted:
                    self.executions_acted.add((step.id, step.execution))
                    index = self.pauses_seen[step.id]
                    self.pauses_seen[step.id] += 1
                    action = spec.on_pause[index] if index < len(spec.on_pause) else "none"
                    acted |= await self._on_pause(step, action)
            elif isinstance(spec, GateSpec) and step.status == S.WAITING:
                if (step.id, step.round) not in self.rounds_decided and spec.times_out is None:
                    self.rounds_decided.add((step.id, step.round))
                    index = step.round - 1
                    decision = spec.decisions[index] if index < len(spec.decisions) else "none"
                    if decision != "none":
                        self.outcome.log.append(f"{decision} {step.id} round {step.round}")
                        await self._update(
                            "decide",
                            Decision(
                                step_id=step.id, decision=decision, actor="fuzz", round=step.round
                            ),
                        )
                        acted = True
        return acted

    async def _inject_faults(self, state: RunState) -> bool:
        """Restart the worker or the server where nothing runs and something waits; kill
        the worker process in the middle of the first step's hanging LLM call."""
        if self.kill_pending and self._first_call_hangs() and self._alone_or_waited(state):
            self.kill_pending = False
            first = self.scenario.steps[0].id
            self.outcome.running_at_kill = {
                s.id for s in state.steps if s.status == S.RUNNING and s.id != first
            }
            with_supervisor = self.scenario.kills_the_supervisor_too
            killed = await self.rig.pool.kill_the_worker_running(
                self.handle, first, with_supervisor
            )
            self.outcome.log.append(
                f"SIGKILL worker {killed}" + ("" if with_supervisor else " (process alone)")
            )
            return True
        quiet = _nothing_running(state) and any(
            s.status in (S.WAITING, S.PAUSED) for s in state.steps
        )
        if not (self.restarts and quiet):
            return False
        fault = self.restarts.pop()
        self.outcome.log.append(fault.replace("_", " "))
        if fault == "restart_temporal":
            await self.rig.temporal.restart()
        else:
            await self.rig.in_process.restart()
        return True

    def _alone_or_waited(self, state: RunState) -> bool:
        """Kill when the hanging step is the only one running: a sibling whose reply the
        dying worker held but had not reported would be called again, legitimately, and
        take its next scripted reply. A sibling that hangs too is waited for only so long;
        its extra call is then allowed (Outcome.running_at_kill)."""
        first = self.scenario.steps[0].id
        alone = all(s.status != S.RUNNING or s.id == first for s in state.steps)
        if self.hang_seen_at is None:
            self.hang_seen_at = time.monotonic()
        return alone or time.monotonic() - self.hang_seen_at > KILL_WAIT_SECONDS

    def _first_call_hangs(self) -> bool:
        first = self.scenario.steps[0]
        return any(c.finished_wall is None for c in self.stub.calls(marker(first.id)))

    async def _on_pause(self, step: StepState, action: str) -> bool:
        """What the operator does about a pause they see, naming the execution they saw:
        the query may show a pause its workflow has not applied yet (gates.result_in_flight)."""
        step_id, seen = step.id, step.execution
        self.outcome.log.append(f"{action} {step_id}")
        if action == "none":
            return False
        if action == "skip":
            await self._update(
                "skip_step", StepAction(step_id=step_id, output="by hand", execution=seen)
            )
        elif action == "retry":
            await self._update("retry_step", StepAction(step_id=step_id, execution=seen))
        elif action == "retry_twice_at_once":
            outcomes = await asyncio.gather(
                self._update(
                    "retry_step", StepAction(step_id=step_id, actor="tab one", execution=seen)
                ),
                self._update(
                    "retry_step", StepAction(step_id=step_id, actor="tab two", execution=seen)
                ),
            )
            self.outcome.refused_twins += outcomes.count(False)
        else:  # the same request sent twice, as an HTTP client's retry would
            key = f"{IDEMPOTENT_UPDATE_PREFIX}retry_step:{step_id}:{uuid.uuid4()}"
            retry = StepAction(step_id=step_id, execution=seen)
            await self._update("retry_step", retry, key)
            await asyncio.sleep(0.3)
            await self._update("retry_step", retry, key)
        return True

    async def _update(
        self, name: str, argument: Decision | StepAction, key: str | None = None
    ) -> bool:
        """Send an operator's update; False if the run refused it (as it may, when closing)."""
        try:
            await self.handle.execute_update(name, argument, id=key)
        except WorkflowUpdateFailedError as refused:
            assert isinstance(refused.cause, ApplicationError), refused
            self.outcome.log.append(f"refused {name}: {refused.cause.type}")
            return False
        return True

    def _record(self, status: RunStatus, steps: list[StepState]) -> None:
        self.outcome.status = status
        self.outcome.steps = {s.id: s.status for s in steps}
        self.outcome.states = steps

    async def _closed(self, status: WorkflowExecutionStatus) -> Outcome:
        if status == WorkflowExecutionStatus.COMPLETED:
            result = await self.handle.result()
            self._record(RunStatus(result.outcome), result.steps)
        elif status == WorkflowExecutionStatus.FAILED:
            try:
                await self.handle.result()
            except WorkflowFailureError as failure:
                assert isinstance(failure.cause, ApplicationError), failure
                assert failure.cause.type == "RunFailed", failure.cause
                closed = RunState.model_validate(failure.cause.details[0])
                self._record(RunStatus.FAILED, closed.steps)
        else:
            raise AssertionError(f"a fuzzed run closed as {status}: {self.outcome.log}")
        return self.outcome


async def run_and_check(scenario: Scenario, rig: Rig, stub: StubLLM) -> Outcome:
    """Run the scenario and hold it to the model and the engine's invariants."""
    prediction = predict(scenario)
    if scenario.kills_a_worker:
        await rig.pool.ready()
    driver = ScenarioRun(scenario, rig, stub)
    outcome = await driver.run()
    context = f"{scenario}\nmodel: {prediction}\nlog: {outcome.log}"
    assert not driver.kill_pending, f"the worker was never killed mid-step\n{context}"
    _check_status(outcome, prediction, context)
    _check_calls(scenario, prediction, stub, outcome, context)
    _check_dependencies(scenario, stub, outcome, context)
    await _check_views_agree(driver.handle, rig.client, outcome, context)
    await assert_replays(driver.handle)
    return outcome


def _check_status(outcome: Outcome, prediction: Prediction, context: str) -> None:
    if prediction.closes_as:
        assert outcome.status in prediction.closes_as, context
    else:
        assert outcome.status == prediction.waits_as, context


def _check_calls(
    scenario: Scenario, prediction: Prediction, stub: StubLLM, outcome: Outcome, context: str
) -> None:
    """Every task made the calls the model says; a run closed early may have cut some short.

    So a finished step never called its LLM again, and a retried request acted once."""
    for task in scenario.tasks():
        made = stub.call_count(marker(task.id))
        if task.id in outcome.running_at_kill:
            # Its reply died with the worker: one more call, and the model's path is off.
            assert made <= prediction.calls[task.id] + 1, f"{task.id} made {made}\n{context}"
        elif prediction.closes_early:
            assert made <= prediction.calls[task.id], f"{task.id} made {made}\n{context}"
        else:
            assert made == prediction.calls[task.id], f"{task.id} made {made}\n{context}"


def _check_dependencies(scenario: Scenario, stub: StubLLM, outcome: Outcome, context: str) -> None:
    """No task called its LLM before every task it depends on had first succeeded, or
    been skipped by an operator (wall-clock times: the stub's and the workflow's)."""
    satisfied: dict[str, float] = {}
    first_call: dict[str, float] = {}
    for task in scenario.tasks():
        calls = stub.calls(marker(task.id))
        if calls:
            first_call[task.id] = min(c.started_wall for c in calls)
        succeeded = [c.finished_wall for c in calls if c.status == 200 and c.finished_wall]
        if succeeded:
            satisfied[task.id] = min(succeeded)
    for state in outcome.states:
        if state.status == S.SKIPPED and state.finished_at is not None:
            satisfied.setdefault(state.id, state.finished_at.timestamp())
    for task_id, called in first_call.items():
        for ancestor in _task_ancestors(scenario, task_id):
            assert ancestor in satisfied, f"{task_id} ran before {ancestor}\n{context}"
            # A little slack: two clocks on one machine, read at different moments.
            assert satisfied[ancestor] <= called + 0.05, f"{task_id} ≺ {ancestor}\n{context}"


def _task_ancestors(scenario: Scenario, step_id: str) -> set[str]:
    found: set[str] = set()
    for dep in scenario.step(step_id).after:
        if isinstance(scenario.step(dep), TaskSpec):
            found.add(dep)
        found |= _task_ancestors(scenario, dep)
    return found


async def _check_views_agree(
    handle: Handle, client: Client, outcome: Outcome, context: str
) -> None:
    """The history fold (the API's fallback) shows what the workflow showed."""
    latest = client.get_workflow_handle(handle.id)
    events = [e async for e in latest.fetch_history_events()]
    folded = await fold_history(events, client.data_converter)
    assert folded is not None, context
    folded_steps = {k: s.status for k, s in folded.steps.items()}
    assert folded_steps == outcome.steps, f"history fold {folded_steps}\n{context}"


async def _where_it_stands(handle: Handle) -> str:
    """What a stuck run waits on: its steps, and its activities as Temporal sees them."""
    state = await _query(handle)
    description = await handle.describe()
    activities = [
        (a.activity_id, a.state, a.attempt, a.last_failure.message, a.last_worker_identity)
        for a in description.raw_description.pending_activities
    ]
    steps = [(s.id, s.status.value, s.execution) for s in state.steps]
    return f"steps {steps}; pending activities {activities}"


async def _query(handle: Handle) -> RunState:
    return await handle.query(AgentWorkflowV2.status, StatusPage())


def _nothing_running(state: RunState) -> bool:
    return all(s.status != S.RUNNING for s in state.steps)
