"""The fetch_url tool. The model chooses the URL, so the URL is untrusted: it may point
at Temporal Web on this host (no sign-in), a cloud metadata service or the office LAN.

Every hop, the first and each redirect, is resolved here and refused when any address
it resolves to is loopback, private, link-local or otherwise not global, unless
``KASAL_FETCH_ALLOW`` lists the host or its network; link-local and cloud metadata
addresses stay refused even then (workflows/egress.py). The request then goes to the
address that was checked (with the host's name in ``Host`` and in TLS's SNI), so a
second DNS answer cannot swap in another address between the check and the connection.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any

import httpx

from activities.egress import resolve
from activities.tools.handle import ToolError
from workflows.egress import HostList, IpAddress, always_refused
from workflows.tools import MAX_TOOL_RESULT_BYTES

MAX_FETCHED_BYTES = 1024 * 1024
MAX_REDIRECTS = 5
FETCH_TIMEOUT_SECONDS = 30
_REDIRECTS = {301, 302, 303, 307, 308}


@dataclass(frozen=True)
class FetchPolicy:
    """Which non-public hosts and networks an operator allowed (``KASAL_FETCH_ALLOW``)."""

    allowed: HostList = field(default_factory=HostList)

    @classmethod
    def parse(cls, setting: str) -> FetchPolicy:
        """ "127.0.0.1, 10.0.0.0/8, wiki.internal" → the hosts and networks listed."""
        return cls(HostList.parse(setting))

    def allows(self, host: str, address: IpAddress) -> bool:
        if always_refused(host, address) is not None:
            return False
        return address.is_global or self.allowed.matches(host, address)


async def fetch_url(url: str, policy: FetchPolicy) -> str:
    async with httpx.AsyncClient(
        timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=False, trust_env=False
    ) as client:
        for _ in range(MAX_REDIRECTS + 1):
            target = _parse(url)
            address = await _checked_address(target, policy)
            response = await _get(client, target, address)
            if response.status_code in _REDIRECTS and "location" in response.headers:
                url = str(target.join(response.headers["location"]))
                continue
            if not response.is_success:
                raise ToolError(f"GET {url} answered {response.status_code}")
            return _text(response)
    raise ToolError(f"more than {MAX_REDIRECTS} redirects from {url}")


def _parse(url: str) -> httpx.URL:
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ToolError(f"not a URL: {exc}") from None
    if target.scheme not in ("http", "https") or not target.host:
        raise ToolError(f"only http(s) URLs can be fetched, not {url!r}")
    return target


async def _checked_address(target: httpx.URL, policy: FetchPolicy) -> IpAddress:
    host = target.host
    port = target.port or (443 if target.scheme == "https" else 80)
    try:
        addresses = await resolve(host, port)
    except socket.gaierror as exc:
        raise ToolError(f"cannot resolve {host}: {exc}") from None
    refused = [a for a in addresses if not policy.allows(host, a)]
    if refused or not addresses:
        raise ToolError(
            f"refused: {host} resolves to {refused[0] if refused else 'nothing'}, which is not "
            "a public address (an operator may allow it with KASAL_FETCH_ALLOW)"
        )
    return addresses[0]


async def _get(client: httpx.AsyncClient, target: httpx.URL, address: IpAddress) -> httpx.Response:
    extensions: dict[str, Any] = {}
    if target.scheme == "https":
        extensions["sni_hostname"] = target.host
    request = client.build_request(
        "GET",
        target.copy_with(host=str(address)),
        headers={"Host": target.netloc.decode("ascii")},
        extensions=extensions,
    )
    try:
        response = await client.send(request, stream=True)
    except httpx.HTTPError as exc:
        raise ToolError(f"GET {target} failed: {type(exc).__name__}: {exc}") from None
    try:
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > MAX_FETCHED_BYTES:
                break
    finally:
        await response.aclose()
    response._content = bytes(body[:MAX_FETCHED_BYTES])
    return response


def _text(response: httpx.Response) -> str:
    data = response.content
    text = data[:MAX_TOOL_RESULT_BYTES].decode(response.encoding or "utf-8", errors="replace")
    if len(data) > MAX_TOOL_RESULT_BYTES:
        text += f"\n[truncated: the first {MAX_TOOL_RESULT_BYTES // 1024} KB are shown]"
    return text
