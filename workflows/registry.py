"""What a worker (and a replayer) registers: the workflows and how they run."""

from __future__ import annotations

from temporalio.worker import UnsandboxedWorkflowRunner
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

# Workers run the workflows without the SDK's sandbox. The sandbox guards a workflow by
# re-importing its modules for every run and handing them proxies of the clock, random
# and I/O; re-importing the workflows package rebuilt its pydantic models and
# recompiled its modules for every run a worker started (a third of the worker's CPU
# with 300 one-step runs at once), so the package was passed through, and passed
# through, its code ran with the real modules, unguarded. What the sandbox still did
# was its own work around every activation and every payload's serialization context:
# entering it, patching builtins, running code in it (94 → 87 ms of the worker's CPU a
# run in bench P3). The package is pure and deterministic by design (it imports
# nothing with side effects), and the guard is kept where it costs nothing at run
# time: tests replay the recorded histories under the SDK's isolating sandbox
# (isolating_workflow_runner), with the package re-imported and restricted, so a
# workflow that reaches for the clock, randomness or I/O fails there.
THIRD_PARTY_PASSTHROUGH = ("pydantic", "pydantic_core", "annotated_types")


def workflow_runner() -> UnsandboxedWorkflowRunner:
    return UnsandboxedWorkflowRunner()


def isolating_workflow_runner() -> SandboxedWorkflowRunner:
    """The SDK's sandbox with our modules re-imported for every run, and its restrictions
    on what they call: slower, for checking determinism in tests."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*THIRD_PARTY_PASSTHROUGH)
    )
