"""Request and response bodies for the tool catalogue, custom HTTP tools and MCP servers.

Secret header values are write-only: answers name the secret headers
(``secret_header_names``), never their values. Requests are strict about JSON types and
refuse unknown fields, so that a misspelt ``secret_headers`` is an error, not a secret
silently dropped.
"""

from __future__ import annotations

import re
import urllib.parse
from datetime import datetime
from typing import Annotated, Any, Literal

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from workflows.tools import (
    BUILTIN_BY_NAME,
    MODEL_MCP_SEPARATOR,
    HttpMethod,
    McpTransport,
    ToolInfo,
)

TOOL_NAME_PATTERN = r"^[a-zA-Z0-9_-]{1,64}$"
ToolName = Annotated[str, StringConstraints(pattern=TOOL_NAME_PATTERN)]
# An HTTP header's name (RFC 9110 token) and a value that cannot start another header.
HeaderName = Annotated[str, StringConstraints(pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")]
HeaderValue = Annotated[str, StringConstraints(pattern=r"^[^\r\n\x00]{0,4000}$")]
# Pydantic says which names match, not that no other name may: the schema says both.
Headers = Annotated[
    dict[HeaderName, HeaderValue], Field(json_schema_extra={"additionalProperties": False})
]
TimeoutSeconds = Annotated[float, Field(gt=0, le=600)]

# "{{" and "}}" are literal braces; "{name}" is a variable; any other brace is malformed.
_URL_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
EMPTY_OBJECT_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}
# What the schema can say of a URL (the validators check the rest): http(s), and a host.
HTTP_URL_PATTERN = r"^https?://[^/?#\s]"


def url_variables(url_template: str) -> list[str]:
    """The variables of a valid template, in order."""
    return [m.group(1) for m in _URL_TOKEN.finditer(url_template) if m.group(1) is not None]


def _check_args_schema(schema: dict[str, Any]) -> dict[str, Any]:
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        where = ".".join(str(part) for part in error.path) or "the root"
        raise ValueError(f"not a valid JSON Schema at {where}: {error.message}") from None
    except RecursionError:
        raise ValueError("not a valid JSON Schema: nested too deeply") from None
    if schema.get("type") != "object":
        raise ValueError('must be a JSON Schema of type "object" (the tool\'s arguments)')
    return schema


def _check_url_template(url_template: str, info: ValidationInfo) -> str:
    for match in _URL_TOKEN.finditer(url_template):
        token, name = match.group(0), match.group(1)
        if token in ("{{", "}}"):
            continue
        if name is None:
            raise ValueError(
                f"unmatched '{token}' at position {match.start()}: write '{token * 2}' for a "
                "literal brace"
            )
        if not _VARIABLE.match(name):
            raise ValueError(f"invalid variable '{token}': a variable is a name, like {{city}}")
    filled = _URL_TOKEN.sub(
        lambda m: "x" if m.group(1) is not None else m.group(0)[0], url_template
    )
    parts = urllib.parse.urlsplit(filled)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL, like https://api.example.com/items/{id}")
    args_schema = info.data.get("args_schema")
    if isinstance(args_schema, dict):  # else args_schema itself is reported
        properties = args_schema.get("properties") or {}
        missing = [name for name in url_variables(url_template) if name not in properties]
        if missing:
            listed = ", ".join(f"{{{name}}}" for name in missing)
            raise ValueError(f"{listed}: every variable must be a property of args_schema")
    return url_template


def _check_secret_headers(secret: dict[str, str] | None, info: ValidationInfo) -> Any:
    plain = {name.lower() for name in info.data.get("headers") or {}}
    both = sorted(name for name in secret or {} if name.lower() in plain)
    if both:
        raise ValueError(f"{', '.join(both)} also in headers: a header is plain or secret")
    return secret


class _Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class HttpToolFields(_Request):
    kind: Literal["http"] = "http"
    description: str = Field(
        min_length=1, max_length=4000, description="What the tool does, for the model"
    )
    method: HttpMethod = "GET"
    args_schema: dict[str, Any] = Field(
        default_factory=lambda: dict(EMPTY_OBJECT_SCHEMA),
        description="A JSON Schema (2020-12) of type object: the tool's arguments",
        json_schema_extra={"properties": {"type": {"const": "object"}}, "required": ["type"]},
    )
    url_template: str = Field(
        min_length=1,
        max_length=2000,
        json_schema_extra={"pattern": HTTP_URL_PATTERN},
        description="An http(s) URL; each {variable} is an argument, percent-encoded into it. "
        "The other arguments go to the query string for GET and to the JSON body otherwise",
    )
    headers: Headers = {}
    timeout_seconds: TimeoutSeconds = 30
    idempotent: bool | None = Field(
        default=None,
        description="May a retry repeat the call? Defaults to true for GET, false otherwise",
    )

    _args_schema = field_validator("args_schema")(_check_args_schema)
    _url_template = field_validator("url_template")(_check_url_template)


class HttpToolCreate(HttpToolFields):
    name: ToolName
    secret_headers: Headers = Field(
        default={}, description="Header values stored encrypted and never shown again"
    )

    _secret_headers = field_validator("secret_headers")(_check_secret_headers)

    @field_validator("name")
    @classmethod
    def _not_a_builtin(cls, name: str) -> str:
        if name in BUILTIN_BY_NAME:
            raise ValueError(f"'{name}' is a built-in tool's name")
        return name


class HttpToolUpdate(HttpToolFields):
    """The whole definition again, as a new version. ``secret_headers`` omitted keeps the
    stored ones; an object replaces them all, and ``null`` (or ``{}``) removes them."""

    secret_headers: Headers | None = Field(
        default=None, description="Omit to keep the stored values; null removes them"
    )

    _secret_headers = field_validator("secret_headers")(_check_secret_headers)


class HttpToolRead(BaseModel):
    name: str
    kind: Literal["http"]
    version: int
    description: str
    method: HttpMethod
    url_template: str
    headers: dict[str, str]
    args_schema: dict[str, Any]
    timeout_seconds: float
    idempotent: bool
    secret_header_names: list[str]
    created_at: datetime
    updated_at: datetime


class ToolCatalogue(BaseModel):
    items: list[ToolInfo]


def _check_server_name(name: str) -> str:
    if MODEL_MCP_SEPARATOR in name:
        # The model sees "<server>__<tool>", which must map back to one server.
        raise ValueError(f"must not contain '{MODEL_MCP_SEPARATOR}'")
    return name


class McpServerFields(_Request):
    transport: McpTransport
    url: str | None = Field(
        default=None,
        max_length=2000,
        validate_default=True,
        json_schema_extra={"pattern": HTTP_URL_PATTERN},
        description="The server's endpoint, for streamable-http and sse",
    )
    command: list[Annotated[str, StringConstraints(min_length=1, max_length=4000)]] | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        validate_default=True,
        description="The program and its arguments, for stdio (run on the worker's host, "
        "where KASAL_ALLOW_STDIO_MCP=true allows it)",
    )
    headers: Headers = {}
    timeout_seconds: TimeoutSeconds = 30

    @field_validator("url")
    @classmethod
    def _url_for_http(cls, url: str | None, info: ValidationInfo) -> str | None:
        transport = info.data.get("transport")
        if transport == "stdio" and url is not None:
            raise ValueError("a stdio server has a command, not a url")
        if transport in ("streamable-http", "sse"):
            if url is None:
                raise ValueError(f"required for transport '{transport}'")
            parts = urllib.parse.urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("must be an http(s) URL")
        return url

    @field_validator("command")
    @classmethod
    def _command_for_stdio(cls, command: list[str] | None, info: ValidationInfo) -> Any:
        transport = info.data.get("transport")
        if transport == "stdio" and command is None:
            raise ValueError("required for transport 'stdio'")
        if transport in ("streamable-http", "sse") and command is not None:
            raise ValueError(f"a {transport} server has a url, not a command")
        return command


class McpServerCreate(McpServerFields):
    name: ToolName
    secret_headers: Headers = Field(
        default={}, description="Header values stored encrypted and never shown again"
    )

    _name = field_validator("name")(_check_server_name)
    _secret_headers = field_validator("secret_headers")(_check_secret_headers)


class McpServerUpdate(McpServerFields):
    """The whole definition again, as a new version. ``secret_headers`` omitted keeps the
    stored ones; an object replaces them all, and ``null`` (or ``{}``) removes them."""

    secret_headers: Headers | None = Field(
        default=None, description="Omit to keep the stored values; null removes them"
    )

    _secret_headers = field_validator("secret_headers")(_check_secret_headers)


class McpServerRead(BaseModel):
    name: str
    version: int
    transport: McpTransport
    url: str | None
    command: list[str] | None
    headers: dict[str, str]
    secret_header_names: list[str]
    timeout_seconds: float
    tools: list[ToolInfo] | None = Field(
        description="The tools the last successful test listed, as `<server>.<tool>`; "
        "null until a test succeeds"
    )
    created_at: datetime
    updated_at: datetime
