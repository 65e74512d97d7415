"""Definitions written by a model from a prompt, on a worker (GenerateDefinitionWorkflow).

A generation is a Temporal workflow of the workspace that asked for it, marked with the
``KasalWorkspace`` search attribute; another workspace's generation answers as if it did
not exist. Nothing is stored in the database: the answer lives in Temporal until the
namespace's retention drops it.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode

from api.errors import NotFound, Unavailable
from api.schemas.generations import GenerateRequest, GenerationRead, GenerationStarted
from api.temporal import TemporalGateway
from db.models import DEFAULT_WORKSPACE
from db.uow import UnitOfWork
from kasal.settings import Settings
from workflows.compiler import CompilationFailed, CompileError
from workflows.generation import (
    GENERATE_DEFINITION_WORKFLOW,
    GenerateDefinitionInput,
    GenerationResult,
)
from workflows.search_attributes import KASAL_WORKSPACE

# Past every answer's deadline and a repair's worth of waiting for a worker.
GENERATION_TIMEOUT = timedelta(hours=1)
ID_PREFIX = "generation-"

GenerationHandle = WorkflowHandle[Any, GenerationResult]


class GenerationService:
    def __init__(
        self, uow: UnitOfWork, temporal: TemporalGateway, settings: Settings, workspace: str
    ) -> None:
        self.uow = uow
        self.temporal = temporal
        self.settings = settings
        self.workspace = workspace

    async def create(self, data: GenerateRequest) -> GenerationStarted:
        """Start a generation; the model must be a config of this workspace."""
        async with self.uow as uow:
            if await uow.model_configs.get(data.model) is None:
                raise CompilationFailed(
                    [CompileError(loc=["body", "model"], msg=f"no model config {data.model!r}")]
                )
        generation_id = uuid.uuid4()
        client = await self.temporal.client()
        try:
            await client.start_workflow(
                GENERATE_DEFINITION_WORKFLOW,
                GenerateDefinitionInput(
                    workspace=self.workspace, model=data.model, prompt=data.prompt
                ),
                id=f"{ID_PREFIX}{generation_id}",
                task_queue=self.settings.KASAL_TASK_QUEUE,
                execution_timeout=GENERATION_TIMEOUT,
                search_attributes=TypedSearchAttributes(
                    [SearchAttributePair(KASAL_WORKSPACE, self.workspace)]
                ),
                # No prompt here: summaries are stored in plain text, payloads may not be.
                static_summary=f"Generate a workflow with model {data.model}",
            )
        except RPCError as err:
            raise Unavailable(f"Temporal did not answer: {err.message}") from None
        return GenerationStarted(generation_id=generation_id)

    async def get(self, generation_id: uuid.UUID) -> GenerationRead:
        """Running, or the definition that compiles, or the last errors."""
        client = await self.temporal.client()
        handle: GenerationHandle = client.get_workflow_handle(
            f"{ID_PREFIX}{generation_id}", result_type=GenerationResult
        )
        try:
            description = await handle.describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise NotFound(f"no generation {generation_id}") from None
            raise Unavailable(f"Temporal did not answer: {err.message}") from None
        workspace = description.typed_search_attributes.get(KASAL_WORKSPACE) or DEFAULT_WORKSPACE
        if description.workflow_type != GENERATE_DEFINITION_WORKFLOW or workspace != self.workspace:
            raise NotFound(f"no generation {generation_id}")
        if description.status == WorkflowExecutionStatus.RUNNING:
            return GenerationRead(status="running")
        try:
            result = await handle.result()
        except WorkflowFailureError as failure:
            why = str(failure.cause or failure)
            return GenerationRead(status="failed", errors=[CompileError(loc=[], msg=why)])
        except RPCError as err:
            raise Unavailable(f"Temporal did not answer: {err.message}") from None
        if result.status == "completed":
            return GenerationRead(status="completed", spec=result.spec)
        return GenerationRead(status="failed", errors=result.errors)
