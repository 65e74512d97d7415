"""Drive the run reducer by hand, with no Temporal: a plan, a clock, and the commands seen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import STUB_MODEL
from workflows.compiler import compile_plan
from workflows.engine.events import (
    Command,
    Decided,
    GateExpired,
    RetryRequested,
    RunEvent,
    RunStarted,
    SkipRequested,
    StartGateTimer,
    StartTask,
    TaskFailed,
    TaskSucceeded,
)
from workflows.engine.reducer import reduce
from workflows.engine.state import RunData
from workflows.engine.transitions import PlanGraph, Transition
from workflows.plan import Plan
from workflows.run_state import RecordedDecision
from workflows.status import StepStatus
from workflows.task_step import TokenUsage

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class ReducerDriver:
    """One run's reducer, its clock, and every command it has asked for."""

    def __init__(self, definition: dict[str, Any], run: RunData | None = None) -> None:
        self.plan: Plan = compile_plan(definition, {}, {STUB_MODEL})
        self.graph = PlanGraph(self.plan)
        self.run = run or RunData.for_plan(self.plan)
        self.now = EPOCH
        self.commands: list[Command] = []

    def feed(self, event: RunEvent) -> Transition:
        transition = reduce(self.run, self.graph, event)
        self.commands.extend(transition.commands)
        self.now += timedelta(seconds=1)
        return transition

    def start(self) -> Transition:
        return self.feed(RunStarted(at=self.now))

    def succeed(self, step_id: str, output: str = "done") -> Transition:
        return self.feed(
            TaskSucceeded(
                at=self.now,
                step_id=step_id,
                execution=self.run.steps[step_id].execution,
                output=output,
                usage=TokenUsage(),
                attempts=1,
            )
        )

    def fail(self, step_id: str, error: str = "boom", cancelled: bool = False) -> Transition:
        return self.feed(
            TaskFailed(
                at=self.now,
                step_id=step_id,
                execution=self.run.steps[step_id].execution,
                error=error,
                attempts=1,
                cancelled=cancelled,
            )
        )

    def decide(
        self, step_id: str, decision: str, key: str | None = None, comment: str = ""
    ) -> Transition:
        recorded = RecordedDecision.model_validate(
            {
                "step_id": step_id,
                "decision": decision,
                "comment": comment,
                "actor": "ann",
                "decided_at": self.now,
            }
        )
        return self.feed(Decided(at=self.now, decision=recorded, request_key=key))

    def expire(self, step_id: str) -> Transition:
        return self.feed(
            GateExpired(at=self.now, step_id=step_id, round=self.run.steps[step_id].round)
        )

    def retry(self, step_id: str, key: str | None = None) -> Transition:
        return self.feed(RetryRequested(at=self.now, step_id=step_id, request_key=key))

    def skip(self, step_id: str, output: str = "skipped", key: str | None = None) -> Transition:
        return self.feed(
            SkipRequested(at=self.now, step_id=step_id, output=output, request_key=key)
        )

    def continue_as_new(self) -> ReducerDriver:
        """A fresh reducer that starts from this run's state sent through JSON, as Temporal does."""
        carried = RunData.model_validate_json(self.run.model_dump_json())
        successor = ReducerDriver.__new__(ReducerDriver)
        successor.plan, successor.graph, successor.run = self.plan, self.graph, carried
        successor.now, successor.commands = self.now, []
        successor.start()
        return successor

    def statuses(self) -> dict[str, StepStatus]:
        return {step_id: state.status for step_id, state in self.run.steps.items()}

    def started(self) -> list[str]:
        return [c.step_id for c in self.commands if isinstance(c, StartTask)]

    def timers(self) -> list[str]:
        return [c.step_id for c in self.commands if isinstance(c, StartGateTimer)]

    def of_kind(self, kind: str) -> list[Command]:
        return [c for c in self.commands if c.kind == kind]
