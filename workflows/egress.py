"""Where Kasal may send requests: the address rules for every URL a person configures
(a model's ``api_base``, webhooks, HTTP tools, MCP servers), and the list parsing the
fetch tool's stricter policy shares (activities/tools/fetch.py).

Pure (stdlib only), so that the API, which checks a URL when it is saved, and the worker,
which checks every address a host resolves to when it connects, apply the same rules.

The rule, in order:

1. Always refused: link-local addresses (169.254.0.0/16, fe80::/10, where cloud metadata
   services and their credentials live), the known metadata addresses and names
   (169.254.169.254, fd00:ec2::254, 100.100.100.200, metadata.google.internal), and
   multicast. No setting allows them.
2. ``KASAL_EGRESS_DENY`` (hosts and networks) is refused.
3. Without ``KASAL_EGRESS_ALLOW``, everything else is allowed: public addresses, and
   private and loopback ones, for models served on this host or the LAN.
4. With ``KASAL_EGRESS_ALLOW``, public addresses are allowed, and a private, loopback or
   otherwise non-public address only when the list names its host or network.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DENY_SETTING = "KASAL_EGRESS_DENY"
ALLOW_SETTING = "KASAL_EGRESS_ALLOW"

LINK_LOCAL: tuple[IpNetwork, ...] = (
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("fe80::/10"),
)
# Metadata services outside the link-local ranges too: AWS's IPv6 one, Alibaba Cloud's.
METADATA_ADDRESSES: frozenset[IpAddress] = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),
        ipaddress.ip_address("fd00:ec2::254"),
        ipaddress.ip_address("100.100.100.200"),
    }
)
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata.goog"})


def normalized_host(host: str) -> str:
    """``Example.COM.`` and ``[::1]`` as lists and resolvers compare them."""
    return host.strip().strip("[]").rstrip(".").lower()


def literal_address(host: str) -> IpAddress | None:
    """The address a host names without DNS: ``10.0.0.1``, ``::1``, and the old IPv4
    spellings a resolver also accepts (``2852039166``, ``0xa9.254.169.254``)."""
    host = normalized_host(host)
    try:
        return unmapped(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not host or not all(c in "0123456789abcdefx." for c in host):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def unmapped(address: IpAddress) -> IpAddress:
    """``::ffff:169.254.169.254`` is 169.254.169.254: judged as the IPv4 address it is."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def always_refused(host: str, address: IpAddress | None) -> str | None:
    """Why a host, or an address it resolves to, is refused whatever the settings."""
    if normalized_host(host) in METADATA_HOSTS:
        return f"{host} is a cloud metadata service"
    if address is None:
        return None
    address = unmapped(address)
    if address in METADATA_ADDRESSES:
        return f"{address} is a cloud metadata address"
    if any(address in network for network in LINK_LOCAL):
        return f"{address} is a link-local address"
    if address.is_multicast:
        return f"{address} is a multicast address"
    return None


@dataclass(frozen=True)
class HostList:
    """Hosts and networks an operator listed, like ``"127.0.0.1, 10.0.0.0/8, wiki.internal"``."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IpNetwork, ...] = field(default=())

    @classmethod
    def parse(cls, setting: str) -> HostList:
        hosts: set[str] = set()
        networks: list[IpNetwork] = []
        for item in (part.strip() for part in setting.split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
            except ValueError:
                hosts.add(normalized_host(item))
        return cls(frozenset(hosts), tuple(networks))

    def __bool__(self) -> bool:
        return bool(self.hosts or self.networks)

    def names(self, host: str) -> bool:
        return normalized_host(host) in self.hosts

    def matches(self, host: str, address: IpAddress | None) -> bool:
        """The host is listed by name, or the address is in a listed network."""
        if self.names(host):
            return True
        if address is None:
            return False
        address = unmapped(address)
        return any(address in network for network in self.networks)


@dataclass(frozen=True)
class EgressPolicy:
    """The operator's ``KASAL_EGRESS_DENY`` and ``KASAL_EGRESS_ALLOW``."""

    deny: HostList = HostList()
    allow: HostList = HostList()

    @classmethod
    def parse(cls, deny: str, allow: str) -> EgressPolicy:
        return cls(HostList.parse(deny), HostList.parse(allow))

    def refusal(self, host: str, address: IpAddress) -> str | None:
        """Why ``host`` may not be reached at ``address`` (one it resolved to); None if it may."""
        reason = always_refused(host, address)
        if reason is not None:
            return reason
        where = host if normalized_host(host) == str(address) else f"{host} ({address})"
        if self.deny.matches(host, address):
            return f"{where} is listed in {DENY_SETTING}"
        if self.allow and not unmapped(address).is_global and not self.allow.matches(host, address):
            return f"{where} is not a public address and not listed in {ALLOW_SETTING}"
        return None

    def url_refusal(self, url: str) -> str | None:
        """Why ``url`` is refused as written, before any DNS: its scheme, an address it
        names, or a name the rules list. The worker still checks what a name resolves to."""
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError:
            return "not a valid URL"
        if parts.scheme not in ("http", "https") or not host:
            return "must be an http(s) URL"
        address = literal_address(host)
        if address is not None:
            return self.refusal(host, address)
        reason = always_refused(host, None)
        if reason is None and self.deny.names(host):
            reason = f"{host} is listed in {DENY_SETTING}"
        return reason


# No operator settings: only the rules that always hold.
DEFAULT_POLICY = EgressPolicy()
