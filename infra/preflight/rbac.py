"""Azure RBAC, evaluated offline with Azure's real built-in role definitions (`vendor/azure/`).

The rules are Azure's (vendor/azure/README.md): operation strings match case-insensitively with `*` matching
any run of characters, `/` included; a role grants an operation when one of its `actions` matches and none of
its `notActions` does (data operations likewise with `dataActions` / `notDataActions`), `not*` lists are
exclusions from that role only, never denies; `actions: ["*"]` grants no data operation; an assignment applies
to its scope and everything below it, never to a sibling or another subscription. Source:
https://learn.microsoft.com/azure/role-based-access-control/role-definitions (Actions, NotActions,
DataActions, wildcard operations) and /scope-overview (scope inheritance).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from infra.roles import Role


def grants(role: Role, operation: str, data: bool) -> bool:
    allowed, excluded = (
        (role.data_actions, role.not_data_actions) if data else (role.actions, role.not_actions)
    )
    return any(matches(pattern, operation) for pattern in allowed) and not any(
        matches(pattern, operation) for pattern in excluded
    )


@cache
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.IGNORECASE)


def matches(pattern: str, operation: str) -> bool:
    return _pattern(pattern).fullmatch(operation) is not None


def normalise_scope(scope: str) -> str:
    return "/" + scope.strip("/").lower()


def within(resource: str, scope: str) -> bool:
    """Whether `resource` is `scope` or below it (ARM ids compare case-insensitively)."""
    resource, scope = normalise_scope(resource), normalise_scope(scope)
    return scope == "/" or resource == scope or resource.startswith(scope + "/")


@dataclass(frozen=True)
class Assignment:
    """A role assignment: who (principal id), what (role), where (scope), and what it is for."""

    principal: str
    role: Role
    scope: str
    stack: str
    description: str = ""
    # An ABAC condition narrowing the assignment (role assignment delegation); empty for none.
    condition: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.principal, self.role.id, normalise_scope(self.scope))


def narrowest_grant(
    assignments: Iterable[Assignment], principal: str, operation: str, resource: str, data: bool
) -> Assignment | None:
    """The assignment that grants `principal` the operation on `resource`, preferring the narrowest scope and
    then the smallest role, so that a broad role counts as used only where nothing narrower would do."""
    candidates = [
        assignment
        for assignment in assignments
        if assignment.principal == principal
        and within(resource, assignment.scope)
        and grants(assignment.role, operation, data)
    ]
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda a: (
            -len(normalise_scope(a.scope)),
            len(a.role.actions) + len(a.role.data_actions),
            a.role.name,
        ),
    )
