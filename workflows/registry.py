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

# Pure data modules, deterministic and side-effect free: importing them once, outside
# the sandbox, spares every workflow run from rebuilding their pydantic schemas.
PASSTHROUGH_MODULES = (
    "pydantic",
    "pydantic_core",
    "annotated_types",
    "workflows.definition",
    # The compiler and what a child run's plan is made with: re-imported in the sandbox,
    # their pydantic models were rebuilt for every run a worker started (a third of its
    # CPU with 200 one-step runs at once; bench/throughput.py).
    "workflows.branch_checks",
    "workflows.children",
    "workflows.compiler",
    "workflows.gate_timers",
    "workflows.roles",
    "workflows.search_attributes",
    # The whole engine, so that every part of it (PlanGraph's expressions, the errors
    # they raise and catch) is one module: half inside the sandbox and half outside, an
    # EvaluationError raised by one copy went past an except of the other.
    "workflows.engine.branches",
    "workflows.engine.budget",
    "workflows.engine.child_events",
    "workflows.engine.child_steps",
    "workflows.engine.events",
    "workflows.engine.gates",
    "workflows.engine.reducer",
    "workflows.engine.state",
    "workflows.engine.transitions",
    "workflows.engine.views",
    "workflows.expression_eval",
    "workflows.expressions",
    "workflows.plan",
    "workflows.run_state",
    "workflows.status",
    "workflows.step_actions",
    "workflows.task_activity",
    "workflows.task_step",
    "workflows.tools",
)


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH_MODULES)
    )
