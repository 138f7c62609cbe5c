"""Read-side helpers: who is in which group and which policies reach them, via boto3 calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["UserAccess", "user_access", "all_user_access"]


@dataclass(frozen=True)
class UserAccess:
    """Everything that grants a user permissions, split by where it is attached."""

    user: str
    groups: tuple[str, ...]
    attached: tuple[str, ...]  # managed policy names attached to the user directly
    inline: tuple[str, ...]  # inline policy names on the user
    group_attached: dict[str, tuple[str, ...]] = field(default_factory=dict)
    group_inline: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def direct(self) -> tuple[str, ...]:
        """Policies on the user rather than on a group (best practice: none)."""
        return self.attached + self.inline

    @property
    def managed_policies(self) -> tuple[str, ...]:
        """Every managed policy name that reaches the user, directly or through a group."""
        names = set(self.attached)
        for attached in self.group_attached.values():
            names.update(attached)
        return tuple(sorted(names))


def _pages(client: Any, operation: str, key: str, **params: Any) -> list[Any]:
    paginator = client.get_paginator(operation)
    return [item for page in paginator.paginate(**params) for item in page[key]]


def user_access(iam: Any, user: str) -> UserAccess:
    """What reaches ``user``: their groups, and the managed and inline policies of each."""
    groups = tuple(sorted(g["GroupName"] for g in _pages(iam, "list_groups_for_user", "Groups", UserName=user)))
    attached = tuple(sorted(p["PolicyName"] for p in _pages(iam, "list_attached_user_policies", "AttachedPolicies", UserName=user)))
    inline = tuple(sorted(_pages(iam, "list_user_policies", "PolicyNames", UserName=user)))
    group_attached = {
        g: tuple(sorted(p["PolicyName"] for p in _pages(iam, "list_attached_group_policies", "AttachedPolicies", GroupName=g)))
        for g in groups
    }
    group_inline = {g: tuple(sorted(_pages(iam, "list_group_policies", "PolicyNames", GroupName=g))) for g in groups}
    return UserAccess(user, groups, attached, inline, group_attached, group_inline)


def all_user_access(iam: Any) -> list[UserAccess]:
    """:func:`user_access` for every user in the account, by name."""
    names = sorted(u["UserName"] for u in _pages(iam, "list_users", "Users"))
    return [user_access(iam, name) for name in names]
