"""The unit of work: one transaction, committed on success and rolled back on any error.

A block inside another on the same unit of work joins its transaction: the outermost
block commits, or rolls back when an error leaves it. So a caller can put two services'
reads in one transaction (api/authorization.py: who asks, and in which workspace)."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import DEFAULT_WORKSPACE
from db.repositories.blobs import BlobRepository
from db.repositories.identity import (
    AuditRepository,
    CredentialRepository,
    UserRepository,
    WorkspaceRepository,
)
from db.repositories.model_configs import ModelConfigRepository
from db.repositories.tools import McpServerRepository, ToolRepository
from db.repositories.usage import UsageRepository
from db.repositories.workflows import WorkflowRepository


class UnitOfWork:
    session: AsyncSession
    workflows: WorkflowRepository
    model_configs: ModelConfigRepository
    blobs: BlobRepository
    tools: ToolRepository
    mcp_servers: McpServerRepository
    users: UserRepository
    workspaces: WorkspaceRepository
    credentials: CredentialRepository
    audit: AuditRepository
    usage: UsageRepository

    def __init__(
        self, sessions: async_sessionmaker[Any], workspace: str = DEFAULT_WORKSPACE
    ) -> None:
        """``workspace`` scopes every query on what lives in a workspace (definitions,
        model configs, tools, MCP servers, LLM usage); users and workspaces themselves
        are global."""
        self._sessions = sessions
        self.workspace = workspace
        self._depth = 0

    async def __aenter__(self) -> UnitOfWork:
        if self._depth == 0:
            self._begin()
        self._depth += 1
        return self

    def _begin(self) -> None:
        self.session = self._sessions()
        self.workflows = WorkflowRepository(self.session, self.workspace)
        self.model_configs = ModelConfigRepository(self.session, self.workspace)
        self.blobs = BlobRepository(self.session)
        self.tools = ToolRepository(self.session, self.workspace)
        self.mcp_servers = McpServerRepository(self.session, self.workspace)
        self.users = UserRepository(self.session)
        self.workspaces = WorkspaceRepository(self.session)
        self.credentials = CredentialRepository(self.session)
        self.audit = AuditRepository(self.session)
        self.usage = UsageRepository(self.session, self.workspace)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth:
            return
        try:
            if exc_type is None:
                await self.session.commit()
            else:
                await self.session.rollback()
        finally:
            await self.session.close()
