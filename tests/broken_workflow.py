"""A deliberately nondeterministic edit of AgentWorkflow, for the replay test.

It lives alone in a light module because the sandbox re-imports a workflow's module.
"""

from __future__ import annotations

from temporalio import workflow

from workflows.agent_workflow import AgentWorkflow
from workflows.run_state import AgentWorkflowInput, AgentWorkflowResult


@workflow.defn(name="AgentWorkflow")
class TimerFirstAgentWorkflow(AgentWorkflow):
    """Waits on a timer before starting any step: a new command that old histories lack."""

    @workflow.run
    async def run(self, input: AgentWorkflowInput) -> AgentWorkflowResult:
        await workflow.sleep(0.01)
        return await super().run(input)
