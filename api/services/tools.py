"""Rules for the tool catalogue and custom HTTP tools: names unique and never a
built-in's, every update a new version, secret header values encrypted and never
returned."""

from __future__ import annotations

from typing import Any

from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import IntegrityError

from api.egress import refuse, url_problems
from api.errors import Conflict, NotFound
from api.schemas.tools import (
    HttpToolCreate,
    HttpToolFields,
    HttpToolRead,
    HttpToolUpdate,
    ToolCatalogue,
)
from db.base import utcnow
from db.models import ToolRow
from db.secrets import SecretBox
from db.tool_secrets import decrypt_headers, encrypt_headers
from db.uow import UnitOfWork
from db.user_tools import cached_tools, http_info, http_spec
from workflows.egress import DEFAULT_POLICY, EgressPolicy
from workflows.tools import BUILTIN_TOOLS, HttpToolSpec, ToolInfo, ToolKind


class ToolService:
    def __init__(
        self, uow: UnitOfWork, secrets: SecretBox, egress: EgressPolicy = DEFAULT_POLICY
    ) -> None:
        self.uow = uow
        self.secrets = secrets
        self.egress = egress

    async def catalogue(self, kind: ToolKind | None) -> ToolCatalogue:
        """Every tool an agent may name: built-ins, HTTP tools, and the tools each MCP
        server listed when last tested, as ``<server>.<tool>``."""
        items: list[ToolInfo] = []
        if kind in (None, "builtin"):
            items += BUILTIN_TOOLS
        async with self.uow as uow:
            if kind in (None, "http"):
                items += [http_info(row) for row in await uow.tools.list()]
            if kind in (None, "mcp"):
                for server in await uow.mcp_servers.list():
                    items += cached_tools(server) or []
        return ToolCatalogue(items=items)

    async def create(self, data: HttpToolCreate) -> HttpToolRead:
        """Store a new HTTP tool as version 1, its secret headers encrypted."""
        refuse(url_problems(self.egress, data.url_template, ("body", "url_template")))
        async with self.uow as uow:
            if await uow.tools.get(data.name) is not None:
                raise _name_taken(data.name)
            now = utcnow()
            row = ToolRow(
                name=data.name,
                version=1,
                description=data.description,
                spec=_spec(data, sorted(data.secret_headers)),
                secret_headers_encrypted=encrypt_headers(self.secrets, data.secret_headers),
                created_at=now,
                updated_at=now,
            )
            # Two requests may pass the check at once; the primary key decides.
            try:
                await uow.tools.insert(row)
            except IntegrityError:
                raise _name_taken(data.name) from None
            return _read(row)

    async def get(self, name: str) -> HttpToolRead:
        """One HTTP tool, without its secret header values."""
        async with self.uow as uow:
            return _read(await _existing(uow, name))

    async def update(self, name: str, data: HttpToolUpdate) -> HttpToolRead:
        """Replace the definition as the next version; runs started before keep theirs."""
        refuse(url_problems(self.egress, data.url_template, ("body", "url_template")))
        async with self.uow as uow:
            row = await _existing(uow, name)
            if not await uow.tools.claim_next_version(row):
                raise Conflict(f"HTTP tool '{name}' changed concurrently; read it and retry")
            if "secret_headers" in data.model_fields_set:
                secret = data.secret_headers or {}
                row.secret_headers_encrypted = encrypt_headers(self.secrets, secret)
            names = sorted(decrypt_headers(self.secrets, row.secret_headers_encrypted))
            check_kept_secrets(data.headers, names)
            row.description = data.description
            row.spec = _spec(data, names)
            row.updated_at = utcnow()
            return _read(row)

    async def delete(self, name: str) -> None:
        """Remove an HTTP tool; runs that pinned it lose its secret headers."""
        async with self.uow as uow:
            await uow.tools.delete(await _existing(uow, name))


async def _existing(uow: UnitOfWork, name: str) -> ToolRow:
    row = await uow.tools.get(name)
    if row is None:
        raise NotFound(f"no HTTP tool '{name}'")
    return row


def check_kept_secrets(headers: dict[str, str], secret_header_names: list[str]) -> None:
    """A plain header may not also be a secret one kept from before (the validator only
    sees the secret headers a request sends)."""
    secret = {name.lower() for name in secret_header_names}
    both = sorted(name for name in headers if name.lower() in secret)
    if both:
        raise RequestValidationError(
            [
                {
                    "loc": ("body", "headers"),
                    "msg": f"{', '.join(both)} already a secret header: a header is plain "
                    "or secret (send secret_headers without it to make it plain)",
                    "type": "value_error",
                }
            ]
        )


def _name_taken(name: str) -> Conflict:
    return Conflict(f"an HTTP tool named '{name}' already exists")


def _spec(data: HttpToolFields, secret_header_names: list[str]) -> dict[str, Any]:
    """What the row keeps: the HttpToolSpec (no secret values), args_schema, idempotent."""
    http = HttpToolSpec(
        method=data.method,
        url_template=data.url_template,
        headers=data.headers,
        secret_header_names=secret_header_names,
        timeout_seconds=data.timeout_seconds,
    )
    idempotent = data.method == "GET" if data.idempotent is None else data.idempotent
    return {
        **http.model_dump(mode="json"),
        "args_schema": data.args_schema,
        "idempotent": idempotent,
    }


def _read(row: ToolRow) -> HttpToolRead:
    http = http_spec(row)
    return HttpToolRead(
        name=row.name,
        kind="http",
        version=row.version,
        description=row.description,
        method=http.method,
        url_template=http.url_template,
        headers=http.headers,
        args_schema=row.spec["args_schema"],
        timeout_seconds=http.timeout_seconds,
        idempotent=row.spec["idempotent"],
        secret_header_names=http.secret_header_names,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
