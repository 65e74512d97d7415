"""A deliberately nondeterministic edit of AgentWorkflowV2, for the replay test.

It lives alone in a light module because the sandbox re-imports a workflow's module.
"""

from __future__ import annotations

from temporalio import workflow

from workflows.agent_workflow_v2 import AgentWorkflowV2
from workflows.engine.state import AgentWorkflowV2Input
from workflows.run_state import AgentWorkflowResult


@workflow.defn(name="AgentWorkflowV2")
class TimerFirstAgentWorkflow(AgentWorkflowV2):
    """Waits on a timer before starting any step: a new command that old histories lack."""

    @workflow.run
    async def run(self, input: AgentWorkflowV2Input) -> AgentWorkflowResult:
        await workflow.sleep(0.01)
        return await super().run(input)
