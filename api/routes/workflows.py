"""Workflow definitions and their immutable versions."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Response, status

from api.authorization import Editor, Viewer
from api.deps import ScheduleServiceDep, WorkflowServiceDep
from api.etags import parse_if_match, version_etag
from api.schemas.errors import ErrorResponse, error_responses
from api.schemas.workflows import (
    ValidateRequest,
    ValidateResponse,
    VersionRead,
    WorkflowCreate,
    WorkflowPage,
    WorkflowRead,
    WorkflowUpdate,
)

router = APIRouter(prefix="/workflows", tags=["workflows"])

# The version an answer shows, for a later PUT's If-Match.
ETAG_HEADER = {"ETag": {"description": 'The version, as `"3"`', "schema": {"type": "string"}}}


@router.post("/validate", response_model=ValidateResponse, responses=error_responses(400, 422))
async def validate(
    _: Viewer, body: ValidateRequest, service: WorkflowServiceDep
) -> ValidateResponse:
    """Check a definition without running it; 422 lists every error with its path."""
    return await service.validate(body.spec)


@router.post(
    "",
    response_model=WorkflowRead,
    status_code=status.HTTP_201_CREATED,
    responses={201: {"headers": ETAG_HEADER}, **error_responses(400, 409, 422)},
)
async def create(
    _: Editor, body: WorkflowCreate, service: WorkflowServiceDep, response: Response
) -> WorkflowRead:
    created = await service.create(body)
    response.headers["ETag"] = version_etag(created.version)
    return created


@router.get("", response_model=WorkflowPage, responses=error_responses(422))
async def get_all(
    _: Viewer,
    service: WorkflowServiceDep,
    name: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> WorkflowPage:
    return await service.get_all(name=name, limit=limit, offset=offset)


@router.get(
    "/{workflow_id}",
    response_model=WorkflowRead,
    responses={200: {"headers": ETAG_HEADER}, **error_responses(404, 422)},
)
async def get(
    _: Viewer, workflow_id: uuid.UUID, service: WorkflowServiceDep, response: Response
) -> WorkflowRead:
    """The latest version; its number is the `ETag`, for a PUT's `If-Match`."""
    workflow = await service.get(workflow_id)
    response.headers["ETag"] = version_etag(workflow.version)
    return workflow


@router.put(
    "/{workflow_id}",
    response_model=WorkflowRead,
    responses={
        200: {"headers": ETAG_HEADER},
        **error_responses(400, 404, 422),
        409: {
            "model": ErrorResponse,
            "description": "The name is taken, or another save came first (retry)",
        },
        412: {
            "model": ErrorResponse,
            "description": "If-Match names a version that is no longer the latest",
        },
    },
)
async def update(
    _: Editor,
    workflow_id: uuid.UUID,
    body: WorkflowUpdate,
    service: WorkflowServiceDep,
    response: Response,
    if_match: Annotated[
        str | None,
        Header(
            pattern=r"\S",  # an empty If-Match names no version: 422
            description=(
                'The ETag of the version the change is based on: `"3"`, `3` or `W/"3"`; '
                "`*` for any. If another version has been saved since, the answer is 412."
            ),
        ),
    ] = None,
) -> WorkflowRead:
    """Save a new version (n+1). Without If-Match, a save that loses a race is 409."""
    workflow = await service.update(workflow_id, body, parse_if_match(if_match))
    response.headers["ETag"] = version_etag(workflow.version)
    return workflow


@router.delete(
    "/{workflow_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(404, 422, 503),
)
async def delete(
    _: Editor,
    workflow_id: uuid.UUID,
    service: WorkflowServiceDep,
    schedules: ScheduleServiceDep,
) -> None:
    """Archive the workflow: it leaves the list and frees its name, its runs go on, and
    its schedules are deleted first, so none starts a run of it again."""
    await service.get(workflow_id)  # 404 before touching its schedules
    await schedules.delete_of_workflow(workflow_id)
    await service.delete(workflow_id)


@router.get(
    "/{workflow_id}/versions",
    response_model=list[VersionRead],
    responses=error_responses(404, 422),
)
async def get_versions(
    _: Viewer, workflow_id: uuid.UUID, service: WorkflowServiceDep
) -> list[VersionRead]:
    return await service.get_versions(workflow_id)


@router.get(
    "/{workflow_id}/versions/{version}",
    response_model=VersionRead,
    responses=error_responses(404, 422),
)
async def get_version(
    _: Viewer, workflow_id: uuid.UUID, version: int, service: WorkflowServiceDep
) -> VersionRead:
    return await service.get_version(workflow_id, version)


_EXPORT_TYPES = {"json": "application/json", "yaml": "application/yaml"}


@router.get(
    "/{workflow_id}/export",
    response_class=Response,
    responses={
        200: {
            "description": "`{name, description, spec, layout}`, as `kasal apply` reads it",
            "content": {"application/json": {}, "application/yaml": {}},
        },
        **error_responses(404, 422),
    },
)
async def export(
    _: Viewer,
    workflow_id: uuid.UUID,
    service: WorkflowServiceDep,
    format: Annotated[Literal["json", "yaml"], Query()] = "json",
) -> Response:
    """The latest version as our own JSON or YAML: saved again, it is the same workflow."""
    workflow = await service.get(workflow_id)
    document: dict[str, Any] = {
        "name": workflow.name,
        "description": workflow.description,
        "spec": workflow.spec,
    }
    if workflow.layout is not None:
        document["layout"] = workflow.layout
    if format == "yaml":
        import yaml

        text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    else:
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return Response(
        text,
        media_type=_EXPORT_TYPES[format],
        headers={"ETag": version_etag(workflow.version)},
    )
