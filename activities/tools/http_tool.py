"""Custom HTTP tools: a user's definition of one HTTP call, made with the model's arguments.

Template variables are percent-encoded into the URL; the other arguments go to the query
string for GET and to the JSON body otherwise. A non-2xx answer is a tool error the
agent reads and may react to. Bodies are read up to the tool's cap, no further.
"""

from __future__ import annotations

import string
from typing import Any
from urllib.parse import quote

import httpx

from activities.egress import EgressRefused, guarded_client
from activities.tools.handle import ToolError
from workflows.egress import DEFAULT_POLICY, EgressPolicy
from workflows.tools import HttpToolSpec, PinnedTool, ToolInfo

ERROR_BODY_PREVIEW = 2000


def url_variables(url_template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(url_template) if name]


class HttpTool:
    def __init__(
        self,
        tool: PinnedTool,
        secret_headers: dict[str, str],
        egress: EgressPolicy = DEFAULT_POLICY,
    ) -> None:
        assert tool.http is not None, "an HTTP tool carries its HTTP definition"
        self._spec: HttpToolSpec = tool.http
        self._secret_headers = secret_headers
        self._egress = egress
        self.info = ToolInfo(
            name=tool.name,
            kind="http",
            description=tool.description,
            args_schema=tool.args_schema,
            idempotent=tool.idempotent,
        )

    async def call(self, arguments: dict[str, Any]) -> str:
        spec = self._spec
        variables = url_variables(spec.url_template)
        missing = [name for name in variables if name not in arguments]
        if missing:
            raise ToolError(f"missing arguments for the URL: {', '.join(missing)}")
        url = spec.url_template.format(
            **{name: quote(str(arguments[name]), safe="") for name in variables}
        )
        rest = {key: value for key, value in arguments.items() if key not in variables}
        request: dict[str, Any] = {"params": rest} if spec.method == "GET" else {"json": rest}
        headers = {**spec.headers, **self._secret_headers}
        # Every connection is checked against the egress policy, whatever a variable put
        # into the URL and wherever a redirect would lead.
        async with guarded_client(self._egress, timeout=spec.timeout_seconds) as client:
            try:
                async with client.stream(spec.method, url, headers=headers, **request) as response:
                    body = await _capped(response, spec.max_response_bytes)
            except EgressRefused as exc:
                raise ToolError(f"{spec.method} {url}: {exc}") from None
            except httpx.TimeoutException:
                raise ToolError(
                    f"{spec.method} {url} did not answer within {spec.timeout_seconds:g} s"
                ) from None
            except httpx.HTTPError as exc:
                raise ToolError(f"{spec.method} {url} failed: {type(exc).__name__}") from None
        if not response.is_success:
            raise ToolError(
                f"{spec.method} {url} answered {response.status_code}: {body[:ERROR_BODY_PREVIEW]}"
            )
        return body


async def _capped(response: httpx.Response, limit: int) -> str:
    data = bytearray()
    truncated = False
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) > limit:
            truncated = True
            break
    text = bytes(data[:limit]).decode(response.encoding or "utf-8", errors="replace")
    if not truncated:
        return text
    # A cap under 1 KB (or not a whole number of KB) is not "0 KB".
    size = f"{limit // 1024} KB" if limit % 1024 == 0 else f"{limit} bytes"
    return f"{text}\n[truncated at {size}]"
