"""A small reference model of what a run does, written apart from the engine.

It walks the plan in dependency order, as if one thing happened at a time, and says how
the run must end: the statuses it may close in (several, when parallel branches race to
close it first), or the status it must wait in, and how many LLM calls each task makes
when nothing closes the run early.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.fuzz.scenario import GateSpec, Scenario, TaskSpec
from workflows.status import RunStatus


@dataclass
class Prediction:
    # The run closes in one of these; empty when it must stay open.
    closes_as: set[RunStatus] = field(default_factory=set)
    # The status it waits in when nothing closes it (None: it completes).
    waits_as: RunStatus | None = None
    calls: dict[str, int] = field(default_factory=dict)

    @property
    def closes_early(self) -> bool:
        return bool(self.closes_as - {RunStatus.COMPLETED})


class _Model:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.calls = {t.id: 0 for t in scenario.tasks()}
        self.pauses = {t.id: 0 for t in scenario.tasks()}
        self.done: dict[str, str] = {}  # step → "satisfied" | "stuck_paused" | ...
        self.causes: set[RunStatus] = set()

    def upstream_tasks(self, step: GateSpec) -> list[str]:
        found: list[str] = []
        for dep in step.after:
            upstream = self.scenario.step(dep)
            if isinstance(upstream, TaskSpec):
                found.append(dep)
            else:
                found += [t for t in self.upstream_tasks(upstream) if t not in found]
        return found

    def reply(self, task: TaskSpec) -> str:
        replies = task.replies
        reply = replies[min(self.calls[task.id], len(replies) - 1)]
        self.calls[task.id] += 1
        return reply

    def execute(self, task: TaskSpec) -> str:
        """Executions until one succeeds, fails the run, is skipped or stays paused."""
        while True:
            for _ in range(task.max_attempts):
                reply = self.reply(task)
                if reply == "ok":
                    return "satisfied"
                # "500", and "hang": the worker dies mid-call and the heartbeat timeout
                # fails the attempt; both are retried while attempts are left.
                if reply == "401":
                    break  # not retryable: the execution fails at once
            if task.on_failure == "fail":
                self.causes.add(RunStatus.FAILED)
                return "closed"
            action = (
                task.on_pause[self.pauses[task.id]]
                if self.pauses[task.id] < len(task.on_pause)
                else "none"
            )
            self.pauses[task.id] += 1
            if action == "skip":
                return "satisfied"
            if action == "none":
                return "stuck_paused"

    def decide(self, gate: GateSpec) -> str:
        rejections = 0
        round_index = 0
        while True:
            if gate.times_out is not None:
                decision = gate.times_out
            else:
                decision = (
                    gate.decisions[round_index] if round_index < len(gate.decisions) else "none"
                )
            round_index += 1
            if decision == "approve":
                return "satisfied"
            if decision == "none":
                return "stuck_waiting"
            if decision == "fail":
                self.causes.add(RunStatus.FAILED)
                return "closed"
            rejections += 1
            if gate.on_reject != "retry_upstream" or rejections > gate.max_rejections:
                self.causes.add(RunStatus.REJECTED)
                return "closed"
            for task_id in self.upstream_tasks(gate):
                task = self.scenario.step(task_id)
                assert isinstance(task, TaskSpec)
                outcome = self.execute(task)
                if outcome != "satisfied":
                    return outcome

    def walk(self) -> Prediction:
        for step in self.scenario.steps:  # the scenario lists steps after their dependencies
            if any(self.done.get(dep) != "satisfied" for dep in step.after):
                continue
            self.done[step.id] = (
                self.execute(step) if isinstance(step, TaskSpec) else self.decide(step)
            )
        outcomes = set(self.done.values())
        if self.causes:
            return Prediction(closes_as=set(self.causes), calls=self.calls)
        if "stuck_paused" in outcomes:
            return Prediction(waits_as=RunStatus.NEEDS_ATTENTION, calls=self.calls)
        if "stuck_waiting" in outcomes:
            return Prediction(waits_as=RunStatus.WAITING_FOR_APPROVAL, calls=self.calls)
        return Prediction(closes_as={RunStatus.COMPLETED}, calls=self.calls)


def predict(scenario: Scenario) -> Prediction:
    return _Model(scenario).walk()
