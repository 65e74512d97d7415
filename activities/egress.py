"""The egress policy (workflows/egress.py) where the worker connects.

A URL that passed the API's check may still name a host that resolves to a refused
address, today or after its DNS changes (DNS rebinding). So the worker resolves the host
each time it connects and refuses when any address it resolves to is refused.

``guarded_client`` makes httpx clients whose every TCP connection, redirects included,
is checked that way and then made to the very address that was checked: a second DNS
answer cannot swap another address in between. TLS still verifies the certificate for
the host's name (httpcore starts TLS with the URL's host as SNI and hostname). The
webhook, HTTP tools and MCP servers use it. litellm makes its own connections, so a
model's ``api_base`` is checked with ``check_url`` before each attempt instead.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import anyio
import httpcore
import httpx

from workflows.egress import EgressPolicy, IpAddress, literal_address, unmapped


class EgressRefused(Exception):
    """The egress policy refuses the destination; the message says which rule."""


async def resolve(host: str, port: int) -> list[IpAddress]:
    """Every address ``host`` resolves to, in the resolver's order."""
    # A host written as an address (a local model's 127.0.0.1, checked on every call)
    # needs no trip to the resolver's thread. A scoped IPv6 address keeps its zone there.
    literal = None if "%" in host else literal_address(host)
    if literal is not None:
        return [literal]
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IpAddress] = []
    for info in infos:
        # An IPv6 answer may carry a zone ("fe80::1%eth0"), which ip_address refuses.
        address = unmapped(ipaddress.ip_address(str(info[4][0]).split("%")[0]))
        if address not in addresses:
            addresses.append(address)
    return addresses


async def checked_addresses(host: str, port: int, policy: EgressPolicy) -> list[IpAddress]:
    """The addresses of ``host``, all of them allowed; ``EgressRefused`` otherwise."""
    try:
        addresses = await resolve(host, port)
    except socket.gaierror as exc:
        raise EgressRefused(f"cannot resolve {host}: {exc}") from None
    if not addresses:
        raise EgressRefused(f"{host} resolves to no address")
    for address in addresses:
        reason = policy.refusal(host, address)
        if reason is not None:
            raise EgressRefused(f"refused by the egress policy: {reason}")
    return addresses


async def check_url(url: str, policy: EgressPolicy) -> None:
    """``EgressRefused`` unless ``url`` and every address its host resolves to are allowed."""
    reason = policy.url_refusal(url)
    if reason is not None:
        raise EgressRefused(f"refused by the egress policy: {url}: {reason}")
    target = httpx.URL(url)
    await checked_addresses(target.host, target.port or _default_port(target.scheme), policy)


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to addresses the policy allows."""

    def __init__(self, policy: EgressPolicy) -> None:
        self._policy = policy
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        failure: Exception | None = None
        for address in await checked_addresses(host, port, self._policy):
            try:
                return await self._backend.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc  # the next address may answer, as a resolver's caller expects
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise EgressRefused("refused by the egress policy: unix sockets are not reachable")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, policy: EgressPolicy) -> None:
        # No proxy from the environment: a proxy would make the connection, unchecked.
        super().__init__(trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            network_backend=_GuardedBackend(policy),
        )


def guarded_client(policy: EgressPolicy, **kwargs: Any) -> httpx.AsyncClient:
    """An httpx client that connects only where ``policy`` allows; a refused destination
    raises ``EgressRefused`` (httpx passes it through as it is)."""
    return httpx.AsyncClient(transport=_GuardedTransport(policy), trust_env=False, **kwargs)
