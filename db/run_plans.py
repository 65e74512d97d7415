"""A run's plan: a saved version compiled with the run's inputs, the model configs and
tools of its workspace, and what its links and notices need. The API compiles one when a
run starts (api/services/run_starting.py), a worker when a schedule fires
(activities/scheduled_runs.py): one function, so both runs are the same kind of run."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from db.called_workflows import resolve_called_workflows
from db.secrets import SecretBox
from db.uow import UnitOfWork
from db.user_tools import load_user_tools
from kasal.settings import Settings
from workflows.compiler import NO_TOOLS, compile_plan, may_name_user_tools
from workflows.plan import Plan, RunMeta
from workflows.tools import PinnedTool


class VersionMissing(LookupError):
    """The workflow, or the version asked for, is not in the workspace."""


async def compile_version(
    uow: UnitOfWork,
    secrets: SecretBox,
    settings: Settings,
    workflow_id: uuid.UUID,
    version: int | None,
    inputs: dict[str, Any],
) -> Plan:
    """The plan of a version (the latest when None) in ``uow``'s workspace.

    Raises VersionMissing, or the compiler's CompilationFailed for inputs (or model
    configs and tools, since the version was saved) that no longer fit."""
    async with uow:
        found = await uow.workflows.get_with_version(workflow_id, version or None)
        if found is None:
            raise VersionMissing(f"no workflow {workflow_id}")
        workflow, stored = found
        number = version or workflow.latest_version
        if stored is None:
            raise VersionMissing(f"workflow {workflow_id} has no version {number}")
        models = await uow.model_configs.names()
        tools: Mapping[str, PinnedTool] = NO_TOOLS
        # Two queries, skipped for a definition that can name no user tool.
        if may_name_user_tools(stored.spec):
            # Pinned at their current versions, without secret values.
            tools = await load_user_tools(uow, secrets)
        name = workflow.name
        children = await resolve_called_workflows(uow, stored.spec, models, tools, (name,))
    plan = compile_plan(stored.spec, inputs, models, tools, children)
    return plan.model_copy(
        update={
            "meta": RunMeta(
                workflow_id=str(workflow_id),
                workflow_name=name,
                version=number,
                webhook_url=plan.meta.webhook_url or settings.KASAL_WEBHOOK_URL,
                slack_webhook_url=plan.meta.slack_webhook_url or settings.KASAL_SLACK_WEBHOOK_URL,
                app_url=settings.app_url,
                temporal_web_url=settings.temporal_ui_url,
                workspace=uow.workspace,
                content_free_summaries=settings.KASAL_PAYLOAD_ENCRYPTION_KEY is not None,
            )
        }
    )
