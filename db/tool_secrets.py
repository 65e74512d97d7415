"""Secret header values of HTTP tools and MCP servers, for the worker at run time.

A plan pins a tool's definition and the names of its secret headers, never their
values: the activity asks here, by the tool's (or server's) name, as it asks the model
registry for a model's key.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from db.models import McpServerRow, ToolRow
from db.secrets import SecretBox


def encrypt_headers(secrets: SecretBox, headers: dict[str, str]) -> str | None:
    """The ciphertext stored for ``headers``; None when there are none."""
    return secrets.encrypt(json.dumps(headers, sort_keys=True)) if headers else None


def decrypt_headers(secrets: SecretBox, ciphertext: str | None) -> dict[str, str]:
    if not ciphertext:
        return {}
    headers = json.loads(secrets.decrypt(ciphertext))
    return {str(name): str(value) for name, value in headers.items()}


class ToolSecretStore:
    def __init__(self, sessions: async_sessionmaker[Any], secrets: SecretBox) -> None:
        self._sessions = sessions
        self._secrets = secrets

    async def http_tool_headers(self, name: str, workspace: str) -> dict[str, str]:
        """The HTTP tool's secret headers, decrypted; {} when it has none or is unknown."""
        async with self._sessions() as session:
            row = await session.get(ToolRow, (workspace, name))
            return decrypt_headers(self._secrets, row.secret_headers_encrypted if row else None)

    async def mcp_server_headers(self, name: str, workspace: str) -> dict[str, str]:
        """The MCP server's secret headers, decrypted; {} when it has none or is unknown."""
        async with self._sessions() as session:
            row = await session.get(McpServerRow, (workspace, name))
            return decrypt_headers(self._secrets, row.secret_headers_encrypted if row else None)
