"""MCP servers: their definitions, and a test that lists their tools from a worker.
Secret header values are write-only: answers name them (`secret_header_names`) instead."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.authorization import Admin, Viewer
from api.deps import McpServerServiceDep
from api.schemas.errors import error_responses
from api.schemas.tools import McpServerCreate, McpServerRead, McpServerUpdate
from workflows.tools import McpProbeResult

router = APIRouter(prefix="/mcp-servers", tags=["mcp-servers"])


@router.post(
    "",
    response_model=McpServerRead,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 409, 422),
)
async def create(_: Admin, body: McpServerCreate, service: McpServerServiceDep) -> McpServerRead:
    """Define an MCP server (version 1). A stdio server may always be defined; a worker
    runs its command only where `KASAL_ALLOW_STDIO_MCP=true`."""
    return await service.create(body)


@router.get("", response_model=list[McpServerRead])
async def get_all(_: Viewer, service: McpServerServiceDep) -> list[McpServerRead]:
    return await service.get_all()


@router.get("/{name}", response_model=McpServerRead, responses=error_responses(404))
async def get(_: Viewer, name: str, service: McpServerServiceDep) -> McpServerRead:
    return await service.get(name)


@router.put("/{name}", response_model=McpServerRead, responses=error_responses(400, 404, 409, 422))
async def update(
    _: Admin, name: str, body: McpServerUpdate, service: McpServerServiceDep
) -> McpServerRead:
    """Replace a server's definition: the next version. A new url, command or transport
    forgets the tools of the last test."""
    return await service.update(name, body)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404))
async def delete(_: Admin, name: str, service: McpServerServiceDep) -> None:
    await service.delete(name)


@router.post("/{name}/test", response_model=McpProbeResult, responses=error_responses(404, 503))
async def test(_: Admin, name: str, service: McpServerServiceDep) -> McpProbeResult:
    """Connect from a worker and list the server's tools: `ok: true` with the tools (they
    become the server's catalogue entries), or `ok: false` with why it cannot connect.
    503 when no worker answers within the server's timeout and 10 s."""
    return await service.test(name)
