"""A workflow's version as its HTTP entity tag, and the If-Match header that names it.

GET answers `ETag: "3"`; a PUT sent with `If-Match: "3"` applies only if version 3 is
still the latest. Clients send tags in many shapes, so `"3"`, `3` and the weak `W/"3"`
all name version 3; `*` matches whatever version is current.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.errors import BadRequest


def version_etag(version: int) -> str:
    return f'"{version}"'


@dataclass(frozen=True)
class IfMatch:
    versions: frozenset[int]
    any_version: bool = False

    def matches(self, version: int) -> bool:
        return self.any_version or version in self.versions

    def __str__(self) -> str:
        if self.any_version:
            return "*"
        return ", ".join(version_etag(v) for v in sorted(self.versions)) or "no version"


def parse_if_match(header: str | None) -> IfMatch | None:
    """The versions an If-Match header names; a tag that is no version matches none."""
    if header is None:
        return None
    if not header.strip():
        raise BadRequest("If-Match is empty: send the ETag of the version the change is based on")
    if header.strip() == "*":
        return IfMatch(versions=frozenset(), any_version=True)
    versions = set()
    for tag in header.split(","):
        value = tag.strip().removeprefix("W/").strip('"')
        if value.isdecimal():
            versions.add(int(value))
    return IfMatch(versions=frozenset(versions))
