"""The tool catalogue, and custom HTTP tools. Secret header values are write-only:
answers name them (`secret_header_names`) instead."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.authorization import Admin, Viewer
from api.deps import ToolServiceDep
from api.schemas.errors import error_responses
from api.schemas.tools import HttpToolCreate, HttpToolRead, HttpToolUpdate, ToolCatalogue
from workflows.tools import ToolKind

router = APIRouter(prefix="/tools", tags=["tools"])


@router.get("", response_model=ToolCatalogue, responses=error_responses(422))
async def catalogue(
    _: Viewer, service: ToolServiceDep, kind: ToolKind | None = None
) -> ToolCatalogue:
    """Every tool an agent may name in `agents[].tools`: the built-ins, the HTTP tools,
    and each MCP server's tools (as `<server>.<tool>`, from its last successful test).
    An agent may also name `<server>.*`: all of a server's tools."""
    return await service.catalogue(kind)


@router.post(
    "",
    response_model=HttpToolRead,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 409, 422),
)
async def create(_: Admin, body: HttpToolCreate, service: ToolServiceDep) -> HttpToolRead:
    """Define an HTTP tool (version 1)."""
    return await service.create(body)


@router.get("/{name}", response_model=HttpToolRead, responses=error_responses(404))
async def get(_: Viewer, name: str, service: ToolServiceDep) -> HttpToolRead:
    """One HTTP tool, without its secret header values."""
    return await service.get(name)


@router.put("/{name}", response_model=HttpToolRead, responses=error_responses(400, 404, 409, 422))
async def update(
    _: Admin, name: str, body: HttpToolUpdate, service: ToolServiceDep
) -> HttpToolRead:
    """Replace an HTTP tool's definition: the next version. Runs keep the version they
    started with."""
    return await service.update(name, body)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404))
async def delete(_: Admin, name: str, service: ToolServiceDep) -> None:
    await service.delete(name)
