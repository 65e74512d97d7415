"""What a run shows of its state: a page of steps, a summary for failures, its result."""

from __future__ import annotations

from workflows.engine.state import RunData
from workflows.plan import Plan, PlanApprovalStep
from workflows.run_state import AgentWorkflowResult, RunState, StatusPage, attention_status
from workflows.status import RunStatus, open_run_status


def run_status(run: RunData) -> RunStatus:
    if run.is_finished():
        return run.outcome()
    return open_run_status([attention_status(s) for s in run.steps.values()])


def page_of_steps(run: RunData, page: StatusPage) -> RunState:
    """Steps in plan order, ``page.limit`` at a time: a page token is the next offset.

    The status is an open one: a run that has finished its steps is still running until
    the workflow returns, and only then has a result to read.
    """
    offset = int(page.page_token) if page.page_token and page.page_token.isdigit() else 0
    steps = list(run.steps.values())
    end = offset + max(page.limit, 1)
    return RunState(
        status=open_run_status([attention_status(s) for s in run.steps.values()]),
        steps=steps[offset:end],
        next_page_token=str(end) if end < len(steps) else None,
    )


def run_summary(run: RunData) -> RunState:
    """Every step, for a failure's details: outputs are previews, so this stays small."""
    return RunState(status=run_status(run), steps=list(run.steps.values()))


def run_result(run: RunData, plan: Plan) -> AgentWorkflowResult:
    outputs = {s.id: s.output for s in run.steps.values() if s.output is not None}
    sinks: list[str] = []
    for step_id in plan.sink_ids():
        step = plan.step(step_id)
        # A gate that ends the run hands on what it approved.
        found = step.upstream_tasks if isinstance(step, PlanApprovalStep) else [step_id]
        sinks += [found_id for found_id in found if found_id in outputs and found_id not in sinks]
    return AgentWorkflowResult(
        outcome="rejected" if run.outcome() == RunStatus.REJECTED else "completed",
        final_step_ids=sinks,
        final_output="\n\n".join(outputs[step_id] for step_id in sinks),
        steps=list(run.steps.values()),
    )
