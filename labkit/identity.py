"""Who is calling, and which policies apply to them: read from the lab account's IAM state."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = ["Caller", "AccountState", "ADMIN_ACCESS_KEY", "ADMIN_SECRET_KEY"]

# The lab administrator's credentials: the account's root user, whose calls are not enforced.
ADMIN_ACCESS_KEY = "AKIALABKITADMIN00000"
ADMIN_SECRET_KEY = "labkit/admin/secret/not-a-real-aws-secret0"


@dataclass(frozen=True, slots=True)
class Caller:
    """The principal behind a set of credentials."""

    kind: str  # "admin" or "user"
    arn: str
    account_id: str
    name: str
    user_id: str


@lru_cache(maxsize=2048)
def _compiled(text: str, policy_id: str, policy_type: str) -> Any:
    from labkit.policy import Policy

    return Policy.from_json(text, policy_id=policy_id, policy_type=policy_type)


class AccountState:
    """A read-only view of one account in the in-process moto backend."""

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id

    @property
    def _iam(self) -> Any:
        from moto.iam.models import iam_backends

        return iam_backends[self.account_id]["aws"]

    def caller(self, access_key: str | None) -> Caller | None:
        """The principal that owns ``access_key``, or None for keys AWS would not accept."""
        if access_key == ADMIN_ACCESS_KEY:
            return Caller("admin", f"arn:aws:iam::{self.account_id}:root", self.account_id, "root", self.account_id)
        if not access_key:
            return None
        iam = self._iam
        for user in iam.users.values():
            for key in user.access_keys:
                if key.access_key_id == access_key:
                    if key.status != "Active":
                        return None
                    return Caller("user", user.arn, self.account_id, user.name, user.id)
        return None

    def identity_policies(self, caller: Caller) -> list[Any]:
        """Compiled identity-based policies of a user: inline, attached, and their groups'."""
        iam = self._iam
        user = iam.users[caller.name]
        policies = [_compiled(doc, f"{user.name}/{name}", "user") for name, doc in user.policies.items()]
        policies += [self._managed(p) for p in user.managed_policies.values()]
        for group in iam.get_groups_for_user(user.name):
            policies += [_compiled(doc, f"{group.name}/{name}", "group") for name, doc in group.policies.items()]
            policies += [self._managed(p) for p in group.managed_policies.values()]
        return policies

    def permissions_boundary(self, caller: Caller) -> Any | None:
        arn = getattr(self._iam.users[caller.name], "permissions_boundary_arn", None)
        if not arn:
            return None
        return self._managed(self._iam.managed_policies[arn])

    @staticmethod
    def _managed(policy: Any) -> Any:
        version = next(v for v in policy.versions if v.is_default)
        kind = "aws-managed" if policy.arn.startswith("arn:aws:iam::aws:") else "user-managed"
        return _compiled(version.document, policy.name, kind)
