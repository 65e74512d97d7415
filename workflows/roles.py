"""Roles in a workspace, in one total order: each can do everything the ones below can.

Pure data, so that the API (who may call what), the compiler (a gate's approvers) and
the UI's generated types agree on one list.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"  # reads only
    OPERATOR = "operator"  # runs, retries, skips, cancels, forks; decides open gates
    EDITOR = "editor"  # definitions and their webhooks
    ADMIN = "admin"  # members, model configs, tools, MCP servers, secrets, audit

    @property
    def rank(self) -> int:
        return ROLE_ORDER.index(self)

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


ROLE_ORDER: tuple[Role, ...] = (Role.VIEWER, Role.OPERATOR, Role.EDITOR, Role.ADMIN)


def is_role(name: str) -> bool:
    return name in {role.value for role in Role}


def may_decide(approvers: list[str], actor: str, actor_role: str) -> bool:
    """Whether ``actor`` (an email) with ``actor_role`` may decide a gate.

    A gate's approvers are emails and role names; a role name admits that role and the
    roles above it. A gate without approvers admits operators and above."""
    role = Role(actor_role)
    if not approvers:
        return role.at_least(Role.OPERATOR)
    for approver in approvers:
        if is_role(approver):
            if role.at_least(Role(approver)):
                return True
        elif approver.strip().lower() == actor.strip().lower():
            return True
    return False
