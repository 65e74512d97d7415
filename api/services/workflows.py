"""Rules for workflow definitions: validated on save, versions immutable, names unique."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError

from api.errors import Conflict, NotFound, PreconditionFailed
from api.etags import IfMatch
from api.limits import check_definition_size
from api.output_schemas import output_schema_errors
from api.schemas.workflows import (
    ValidateResponse,
    VersionRead,
    WorkflowCreate,
    WorkflowPage,
    WorkflowRead,
    WorkflowSummary,
    WorkflowUpdate,
)
from db.base import utcnow
from db.called_workflows import resolve_called_workflows
from db.models import Workflow, WorkflowVersion
from db.secrets import SecretBox
from db.uow import UnitOfWork
from db.user_tools import load_user_tools
from workflows.compiler import CompilationFailed, CompileError, step_order, validate_definition
from workflows.definition import WorkflowDefinition
from workflows.egress import DEFAULT_POLICY, EgressPolicy


class WorkflowService:
    def __init__(
        self, uow: UnitOfWork, secrets: SecretBox, egress: EgressPolicy = DEFAULT_POLICY
    ) -> None:
        self.uow = uow
        self.secrets = secrets
        self.egress = egress

    async def validate(self, spec: dict[str, Any]) -> ValidateResponse:
        """Check a definition without inputs: the compiler's validation-only mode."""
        async with self.uow as uow:
            parsed = await self._validate(uow, spec)
        return ValidateResponse(
            steps=step_order(parsed),
            inputs=[i.name for i in parsed.inputs],
        )

    async def create(self, data: WorkflowCreate) -> WorkflowRead:
        """Store a new workflow as version 1."""
        async with self.uow as uow:
            await self._validate(uow, data.spec, data.name)
            await self._ensure_name_free(uow, data.name)
            workflow, version = await self._create_or_conflict(uow, data)
            return _read(workflow, version)

    async def get(self, workflow_id: uuid.UUID) -> WorkflowRead:
        """The latest version of a live workflow."""
        async with self.uow as uow:
            workflow = await self._live(uow, workflow_id)
            version = await uow.workflows.get_version(workflow.id, workflow.latest_version)
            assert version is not None
            return _read(workflow, version)

    async def get_all(self, *, name: str | None, limit: int, offset: int) -> WorkflowPage:
        """Live workflows, newest first, optionally filtered by a part of the name."""
        async with self.uow as uow:
            items, total = await uow.workflows.list_live(
                name_contains=name, limit=limit, offset=offset
            )
            return WorkflowPage(
                items=[
                    WorkflowSummary(
                        id=w.id,
                        name=w.name,
                        description=w.description,
                        version=w.latest_version,
                        created_at=w.created_at,
                        updated_at=w.updated_at,
                    )
                    for w in items
                ],
                total=total,
            )

    async def update(
        self, workflow_id: uuid.UUID, data: WorkflowUpdate, if_match: IfMatch | None = None
    ) -> WorkflowRead:
        """Save version n+1; earlier versions stay as they were.

        With ``if_match`` the save applies only while a version it names is the latest
        (412 otherwise). Two saves based on the same version never both land: the later
        one answers 412 with If-Match, and 409 without.
        """
        async with self.uow as uow:
            workflow = await self._live(uow, workflow_id)
            based_on = workflow.latest_version
            if if_match is not None and not if_match.matches(based_on):
                raise PreconditionFailed(
                    f"If-Match names {if_match}, but workflow {workflow_id} is at version "
                    f"{based_on}: read it again and reapply the change"
                )
            name = workflow.name if data.name is None else data.name
            await self._validate(uow, data.spec, name)
            if name != workflow.name:
                await self._ensure_name_free(uow, name)
            try:
                version = await uow.workflows.add_version_after(
                    workflow,
                    based_on,
                    name=name,
                    description=(
                        workflow.description if data.description is None else data.description
                    ),
                    spec=data.spec,
                    layout=data.layout,
                )
            except IntegrityError:
                # Two requests may pass the name check at once; the unique index decides.
                raise _name_taken(name) from None
            if version is None and if_match is not None:
                raise PreconditionFailed(
                    f"workflow {workflow_id} changed concurrently: version {based_on} is no "
                    "longer the latest; read it again and reapply the change"
                )
            if version is None:
                raise Conflict("the definition changed concurrently; retry")
            return _read(workflow, version)

    async def delete(self, workflow_id: uuid.UUID) -> None:
        """Archive: the workflow leaves the list and frees its name; its runs go on."""
        async with self.uow as uow:
            workflow = await self._live(uow, workflow_id)
            workflow.archived = True
            workflow.updated_at = utcnow()

    async def get_versions(self, workflow_id: uuid.UUID) -> list[VersionRead]:
        """Every version of a workflow, oldest first."""
        async with self.uow as uow:
            await self._live(uow, workflow_id)
            return [_version(v) for v in await uow.workflows.list_versions(workflow_id)]

    async def get_version(self, workflow_id: uuid.UUID, number: int) -> VersionRead:
        """One version of a workflow, as it was saved."""
        async with self.uow as uow:
            await self._live(uow, workflow_id)
            version = await uow.workflows.get_version(workflow_id, number)
            if version is None:
                raise NotFound(f"workflow {workflow_id} has no version {number}")
            return _version(version)

    async def check_in(
        self, uow: UnitOfWork, spec: dict[str, Any], name: str | None = None
    ) -> WorkflowDefinition:
        """The checks a save makes, inside the caller's unit of work (an import saves many
        definitions in one)."""
        return await self._validate(uow, spec, name)

    async def _validate(
        self, uow: UnitOfWork, spec: dict[str, Any], name: str | None = None
    ) -> WorkflowDefinition:
        """The size limits, then the compiler's checks against the models, tools and
        called workflows that exist now, with the egress policy's word on the webhook and
        the tasks' output schemas (api/output_schemas.py) among its errors. ``name`` is the
        definition's own, so a call to itself is refused."""
        check_definition_size(spec)
        refused = [*_webhook_refusal(spec, self.egress), *output_schema_errors(spec)]
        models = list(await uow.model_configs.names())
        tools = await load_user_tools(uow, self.secrets)
        calling = (name,) if name else ()
        children = await resolve_called_workflows(uow, spec, models, tools, calling)
        try:
            parsed = validate_definition(spec, models, tools, children)
        except CompilationFailed as exc:
            raise CompilationFailed([*exc.errors, *refused]) from None
        if refused:
            raise CompilationFailed(refused)
        return parsed

    @staticmethod
    async def _live(uow: UnitOfWork, workflow_id: uuid.UUID) -> Workflow:
        workflow = await uow.workflows.get(workflow_id)
        if workflow is None:
            raise NotFound(f"no workflow {workflow_id}")
        return workflow

    @staticmethod
    async def _ensure_name_free(uow: UnitOfWork, name: str) -> None:
        if await uow.workflows.get_live_by_name(name) is not None:
            raise _name_taken(name)

    @staticmethod
    async def _create_or_conflict(
        uow: UnitOfWork, data: WorkflowCreate
    ) -> tuple[Workflow, WorkflowVersion]:
        try:
            return await uow.workflows.create(
                name=data.name, description=data.description, spec=data.spec, layout=data.layout
            )
        except IntegrityError:
            raise _name_taken(data.name) from None


def _webhook_refusal(spec: dict[str, Any], egress: EgressPolicy) -> list[CompileError]:
    notify = spec.get("notify")
    if not isinstance(notify, dict):
        return []
    refused: list[CompileError] = []
    for name in ("webhook_url", "slack_webhook_url"):
        url = notify.get(name)
        reason = egress.url_refusal(url) if isinstance(url, str) else None
        if reason is not None:
            refused.append(
                CompileError(loc=["notify", name], msg=f"refused by the egress policy: {reason}")
            )
    return refused


def _name_taken(name: str) -> Conflict:
    return Conflict(f"a workflow named '{name}' already exists")


def _read(workflow: Workflow, version: WorkflowVersion) -> WorkflowRead:
    return WorkflowRead(
        id=workflow.id,
        name=workflow.name,
        description=workflow.description,
        version=version.version,
        spec=version.spec,
        layout=version.layout,
        created_at=workflow.created_at,
        updated_at=workflow.updated_at,
    )


def _version(version: WorkflowVersion) -> VersionRead:
    return VersionRead(
        workflow_id=version.workflow_id,
        version=version.version,
        spec=version.spec,
        layout=version.layout,
        created_at=version.created_at,
    )
