"""How a workflow runs a task step's activity: its id, timeouts and retry policy.

Shared by AgentWorkflow and AgentWorkflowV2, so a step runs the same way on either.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    ChildWorkflowError,
    FailureError,
    RetryState,
)

from workflows.definition import AgentSpec
from workflows.plan import Plan, PlanTaskStep
from workflows.task_step import TokenUsage

# A step on a worker that died runs again elsewhere this long after the crash, plus its
# first retry interval. What keeps it from being shorter is the server, not the worker:
# every step of a run heartbeats into that run's workflow, which the dev server updates
# one heartbeat at a time, 100-150 a second on a loaded 2-core machine. At 8 s (9 s to
# recover, measured) a run with 1,000 steps in flight sends 156 a second; they queued for
# 5-13 s and 72 steps were retried. At 20 s it sends 100 with 10 s to spare.
HEARTBEAT_TIMEOUT = timedelta(seconds=20)
# So a small run that keeps few steps in flight (the default max_parallel is 16) gets the
# short timeout: 100 steps heartbeat 25 times a second, far inside the server's rate.
# A run of hundreds of steps does not, however narrow: the server takes a run's
# heartbeats and completions one at a time between its workflow tasks, which grow with
# the run. On a loaded CI machine, runs of 383-500 steps, 32-64 in flight, had one step
# in a hundred retried at 8 s (a second LLM call each); their steps need no fast recovery.
FAST_HEARTBEAT_TIMEOUT = timedelta(seconds=8)
FAST_HEARTBEAT_MAX_PARALLEL = 100
FAST_HEARTBEAT_MAX_STEPS = 100
MAX_RETRY_INTERVAL = timedelta(minutes=5)
SUMMARY_LENGTH = 80
ACTIVITY_ID_SEPARATOR = "#"
# The error a step's activity raises when a call would cross its budget.
BUDGET_EXCEEDED = "BudgetExceeded"


def activity_id(step_id: str, execution: int) -> str:
    """The API maps pending activities back to their steps by this id."""
    return f"{step_id}{ACTIVITY_ID_SEPARATOR}{execution}"


def heartbeat_timeout(plan: Plan) -> timedelta:
    """How soon a dead worker's step is noticed, as short as the run's size allows."""
    small = len(plan.steps) <= FAST_HEARTBEAT_MAX_STEPS
    if small and plan.max_parallel <= FAST_HEARTBEAT_MAX_PARALLEL:
        return FAST_HEARTBEAT_TIMEOUT
    return HEARTBEAT_TIMEOUT


def retry_policy(step: PlanTaskStep) -> RetryPolicy:
    return RetryPolicy(
        initial_interval=timedelta(seconds=step.retry.initial_interval_seconds),
        backoff_coefficient=step.retry.backoff,
        maximum_interval=MAX_RETRY_INTERVAL,
        maximum_attempts=step.retry.max_attempts,
    )


def activity_summary(agent: AgentSpec, step: PlanTaskStep, content_free: bool = False) -> str:
    if content_free:
        return f"task {step.id}"
    text = " ".join(f"{agent.role} · {step.description}".split())
    return text if len(text) <= SUMMARY_LENGTH else text[: SUMMARY_LENGTH - 1] + "…"


def attempts_used(err: ActivityError, step: PlanTaskStep) -> int:
    """How many attempts a failed execution took, as the activity or Temporal reports it."""
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.details:
        attempt = cause.details[0]
        if isinstance(attempt, int):
            return attempt
    if err.retry_state == RetryState.MAXIMUM_ATTEMPTS_REACHED:
        return step.retry.max_attempts
    return 1


def stopped_over_budget(err: ActivityError) -> TokenUsage | None:
    """What a step that stopped before a call over its budget spent; None for any other
    failure. The activity sends it as its error's second detail (after the attempt)."""
    cause = err.cause
    if not isinstance(cause, ApplicationError) or cause.type != BUDGET_EXCEEDED:
        return None
    spent = cause.details[1] if len(cause.details) > 1 else None
    return TokenUsage.model_validate(spent) if isinstance(spent, dict) else TokenUsage()


def failure_message(err: ActivityError | ChildWorkflowError) -> str:
    cause = err.cause
    return cause.message if isinstance(cause, FailureError) and cause.message else str(err)
