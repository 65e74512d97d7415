"""What a worker (and a replayer) registers: the workflows and their sandbox."""

from __future__ import annotations

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from workflows.agent_workflow import AgentWorkflow
from workflows.agent_workflow_v2 import AgentWorkflowV2
from workflows.approver_notice import ApproverNoticeWorkflow
from workflows.generate_definition import GenerateDefinitionWorkflow
from workflows.mcp_probe import McpProbeWorkflow
from workflows.notify import NotifyWorkflow
from workflows.retention_workflow import BlobRetentionWorkflow
from workflows.scheduled_run import ScheduledRunWorkflow

# AgentWorkflow stays registered until the last run started on it has closed.
WORKFLOWS = [
    AgentWorkflowV2,
    AgentWorkflow,
    NotifyWorkflow,
    ApproverNoticeWorkflow,
    BlobRetentionWorkflow,
    McpProbeWorkflow,
    GenerateDefinitionWorkflow,
    ScheduledRunWorkflow,
]

# Third-party pure data libraries, and Kasal's whole workflows package: imported once,
# outside the sandbox. Re-imported in it, every workflow run a worker started rebuilt the
# package's pydantic models and recompiled its modules from source: a third of the
# worker's CPU with 300 one-step runs at once (py-spy, bench/throughput.py), more than
# CrewAI's. One copy also keeps every class one class: half inside the sandbox and half
# outside, an EvaluationError raised by one copy went past an except of the other.
# The package is pure and deterministic by design (it imports nothing with side effects);
# tests replay every recorded history under the SDK's isolating sandbox too
# (isolating_workflow_runner), so a workflow that reaches for the clock, randomness or
# I/O still fails there.
THIRD_PARTY_PASSTHROUGH = ("pydantic", "pydantic_core", "annotated_types")
PASSTHROUGH_MODULES = (*THIRD_PARTY_PASSTHROUGH, "workflows")


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH_MODULES)
    )


def isolating_workflow_runner() -> SandboxedWorkflowRunner:
    """The SDK's sandbox with our modules re-imported for every run, and its restrictions
    on what they call: slower, for checking determinism in tests."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*THIRD_PARTY_PASSTHROUGH)
    )
