"""A scenario for the fault harness: a small plan, what the LLM answers, what operators do.

Hypothesis builds scenarios (``scenarios()``); a failing one it finds is shrunk and kept
as a named test by writing the same ``Scenario(...)`` literal by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from hypothesis import strategies as st

from tests.helpers import agent

# "hang": the call never answers, and the harness SIGKILLs the worker that made it.
Reply = Literal["ok", "500", "401", "hang"]
PauseAction = Literal["retry", "skip", "retry_twice_at_once", "retry_same_key_twice", "none"]
GateDecision = Literal["approve", "reject", "none"]
# restart_worker and restart_temporal happen where nothing runs and something waits;
# kill_worker_mid_step SIGKILLs a worker, its supervisor with it, in the middle of the
# first step's first LLM call (that call hangs), so the step's attempt is lost with its
# worker; kill_worker_process_mid_step SIGKILLs the worker process alone, and its
# supervisor forks another (worker/supervisor.py).
Fault = Literal[
    "restart_worker", "restart_temporal", "kill_worker_mid_step", "kill_worker_process_mid_step"
]
KILLS: tuple[Fault, ...] = ("kill_worker_mid_step", "kill_worker_process_mid_step")

# A gate whose decisions are all "timeout" decides itself this soon; others wait an hour.
SHORT_GATE_SECONDS = 1.5
LONG_GATE_SECONDS = 3600


@dataclass(frozen=True)
class TaskSpec:
    id: str
    after: tuple[str, ...]
    on_failure: Literal["pause", "fail"] = "pause"
    max_attempts: int = 1
    replies: tuple[Reply, ...] = ("ok",)  # one per LLM call; the last repeats
    on_pause: tuple[PauseAction, ...] = ()  # one per pause; missing ones are "none"


@dataclass(frozen=True)
class GateSpec:
    id: str
    after: tuple[str, ...]
    on_reject: Literal["end", "retry_upstream"] = "end"
    max_rejections: int = 1
    # The gate decides itself at a short deadline, in every round, instead of a person.
    times_out: Literal["approve", "reject", "fail"] | None = None
    decisions: tuple[GateDecision, ...] = ("approve",)  # one per round; missing: "none"


Step = TaskSpec | GateSpec


@dataclass(frozen=True)
class Scenario:
    steps: tuple[Step, ...]
    faults: tuple[Fault, ...] = field(default=())

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)

    @property
    def kills_a_worker(self) -> bool:
        return any(fault in KILLS for fault in self.faults)

    @property
    def kills_the_supervisor_too(self) -> bool:
        return "kill_worker_mid_step" in self.faults

    def tasks(self) -> list[TaskSpec]:
        return [s for s in self.steps if isinstance(s, TaskSpec)]

    def definition(self) -> dict[str, Any]:
        return {"agents": [agent()], "steps": [_step_json(s) for s in self.steps]}


def marker(step_id: str) -> str:
    """What tells one step's LLM requests apart at the stub; ids are of equal length."""
    return f"STEP-{step_id.upper()}"


def _step_json(step: Step) -> dict[str, Any]:
    if isinstance(step, TaskSpec):
        return {
            "id": step.id,
            "type": "task",
            "agent": "writer",
            "description": f"Do step {marker(step.id)}.",
            "expected_output": "A short answer.",
            "after": list(step.after),
            "on_failure": step.on_failure,
            "retry": {
                "max_attempts": step.max_attempts,
                "initial_interval_seconds": 0.1,
                "backoff": 1.0,
            },
        }
    return {
        "id": step.id,
        "type": "approval",
        "after": list(step.after),
        "message": f"Gate {step.id}?",
        "on_reject": step.on_reject,
        "max_rejections": step.max_rejections,
        "on_timeout": step.times_out or "reject",
        "timeout_seconds": SHORT_GATE_SECONDS if step.times_out else LONG_GATE_SECONDS,
    }


@st.composite
def scenarios(draw: st.DrawFn, max_steps: int = 5) -> Scenario:
    count = draw(st.integers(min_value=1, max_value=max_steps))
    steps: list[Step] = []
    for index in range(count):
        step_id = f"s{index}"
        earlier = [s.id for s in steps]
        after = tuple(
            sorted(draw(st.sets(st.sampled_from(earlier), max_size=2))) if earlier else ()
        )
        gate_upstream_tasks = any(isinstance(s, TaskSpec) for s in steps if s.id in after)
        if draw(st.integers(0, 3)) == 0 and after:
            steps.append(_draw_gate(draw, step_id, after, gate_upstream_tasks))
        else:
            steps.append(_draw_task(draw, step_id, after))
    faults: list[Fault] = []
    if draw(st.integers(0, 3)) == 0:
        faults.append("restart_temporal")
    killed = draw(st.integers(0, 4)) == 0
    if killed:
        first = steps[0]
        assert isinstance(first, TaskSpec)  # a step with no dependency is a task
        steps[0] = replace(first, replies=("hang", *first.replies))
        faults.append(draw(st.sampled_from(KILLS)))
    elif draw(st.booleans()):
        faults.append("restart_worker")
    return Scenario(steps=tuple(steps), faults=tuple(faults))


def _draw_task(draw: st.DrawFn, step_id: str, after: tuple[str, ...]) -> TaskSpec:
    return TaskSpec(
        id=step_id,
        after=after,
        on_failure=draw(st.sampled_from(["pause", "pause", "fail"])),
        max_attempts=draw(st.integers(1, 2)),
        replies=tuple(
            draw(st.lists(st.sampled_from(["ok", "ok", "500", "401"]), min_size=1, max_size=4))
        ),
        on_pause=tuple(
            draw(
                st.lists(
                    st.sampled_from(
                        ["retry", "skip", "retry_twice_at_once", "retry_same_key_twice", "none"]
                    ),
                    max_size=3,
                )
            )
        ),
    )


def _draw_gate(
    draw: st.DrawFn, step_id: str, after: tuple[str, ...], has_upstream_tasks: bool
) -> GateSpec:
    times_out = draw(st.sampled_from([None, None, None, "approve", "reject", "fail"]))
    return GateSpec(
        id=step_id,
        after=after,
        on_reject=draw(st.sampled_from(["end", "retry_upstream"])) if has_upstream_tasks else "end",
        max_rejections=draw(st.integers(1, 2)),
        times_out=times_out,
        decisions=()
        if times_out
        else tuple(
            draw(st.lists(st.sampled_from(["approve", "approve", "reject", "none"]), max_size=3))
        ),
    )
