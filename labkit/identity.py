"""Who is calling, and which of the lab's policies apply to them: read from moto's IAM state."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from labkit.sessions import Session, SessionStore

__all__ = ["Caller", "Directory", "admin_credentials", "ADMIN_SECRET_KEY"]

ADMIN_SECRET_KEY = "labkit/admin/secret/not-a-real-aws-secret0"


def admin_credentials(account_id: str) -> tuple[str, str]:
    """The lab administrator's keys for an account (its root user; calls are not enforced)."""
    return f"AKIALABKIT{account_id[2:]}", ADMIN_SECRET_KEY


@dataclass(frozen=True, slots=True)
class Caller:
    """The principal behind a set of credentials."""

    kind: str  # "admin", "user", "assumed-role", "federated-user" or "user-session"
    arn: str
    account_id: str
    name: str
    user_id: str
    session: Session | None = None
    user_name: str | None = None  # the IAM user, for users and their sessions

    @property
    def role_arn(self) -> str | None:
        return self.session.role_arn if self.session else None


@lru_cache(maxsize=4096)
def compiled(text: str, policy_id: str, policy_type: str) -> Any:
    """A policy document compiled once per (text, name): lab policies rarely change."""
    from labkit.policy import Policy

    return Policy.from_json(text, policy_id=policy_id, policy_type=policy_type)


def _iam(account_id: str) -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[account_id]["aws"]


def _managed(policy: Any) -> Any:
    version = next(v for v in policy.versions if v.is_default)
    kind = "aws-managed" if policy.arn.startswith("arn:aws:iam::aws:") else "user-managed"
    return compiled(version.document, policy.arn, kind)


def _inline(policies: dict[str, str], kind: str) -> list[Any]:
    return [compiled(doc, name, kind) for name, doc in policies.items()]


class Directory:
    """The lab's principals, in the in-process moto backends of every lab account."""

    def __init__(self, account_ids: Iterable[str], sessions: SessionStore) -> None:
        self.account_ids = tuple(account_ids)
        self.sessions = sessions
        self._admin = {admin_credentials(a)[0]: a for a in self.account_ids}

    def caller(self, access_key: str | None, *, now: datetime) -> Caller | str | None:
        """The principal owning ``access_key``; "expired" for expired session credentials; None if unknown."""
        if not access_key:
            return None
        account = self._admin.get(access_key)
        if account is not None:
            return Caller("admin", f"arn:aws:iam::{account}:root", account, "root", account)
        session = self.sessions.get(access_key)
        if session is not None:
            if session.expires <= now:
                return "expired"
            return Caller(session.kind, session.arn, session.account_id, session.name, session.user_id, session, session.user_name)
        return self._key_owner(access_key)

    def admin_account(self, access_key: str | None) -> str | None:
        """The account whose administrator key this is, or None."""
        return self._admin.get(access_key or "")

    def secret(self, caller: Caller, access_key: str) -> tuple[str, str | None]:
        """The secret key and session token that go with ``access_key`` (the caller it names)."""
        if caller.kind == "admin":
            return ADMIN_SECRET_KEY, None
        if caller.session is not None:
            return caller.session.secret_key, caller.session.token
        user = _iam(caller.account_id).users.get(caller.user_name)
        key = next((k for k in getattr(user, "access_keys", ()) if k.access_key_id == access_key), None)
        return (key.secret_access_key if key is not None else ""), None

    def _key_owner(self, access_key: str) -> Caller | None:
        """The IAM user whose active long-term key this is."""
        for account in self.account_ids:
            for user in _iam(account).users.values():
                for key in user.access_keys:
                    if key.access_key_id == access_key:
                        if key.status != "Active":
                            return None
                        return Caller("user", user.arn, account, user.name, user.id, None, user.name)
        return None

    def role(self, role_arn: str) -> Any | None:
        """moto's role for an ARN in any lab account, or None."""
        parts = role_arn.split(":", 5)
        if len(parts) != 6 or parts[4] not in self.account_ids or not parts[5].startswith("role/"):
            return None
        # moto keys roles by role id; ARNs are unique (they include the path).
        return next((r for r in _iam(parts[4]).roles.values() if r.arn == role_arn), None)

    def identity_policies(self, caller: Caller) -> list[Any]:
        """Compiled identity-based policies: a user's own and their groups', or a session's role's."""
        if caller.kind in ("user", "user-session", "federated-user"):
            iam = _iam(caller.account_id)
            user = iam.users.get(caller.user_name)
            if user is None:
                return []
            policies = _inline(user.policies, "user") + [_managed(p) for p in user.managed_policies.values()]
            for group in iam.get_groups_for_user(user.name):
                policies += _inline(group.policies, "group") + [_managed(p) for p in group.managed_policies.values()]
            return policies
        if caller.kind == "assumed-role" and caller.role_arn:
            role = self.role(caller.role_arn)
            if role is None:
                return []
            return _inline(role.policies, "role") + [_managed(p) for p in role.managed_policies.values()]
        return []

    def permissions_boundary(self, caller: Caller) -> Any | None:
        """The permissions boundary of the user or role behind the caller, if it has one."""
        owner: Any = None
        if caller.kind in ("user", "user-session", "federated-user"):
            owner = _iam(caller.account_id).users.get(caller.user_name)
        elif caller.kind == "assumed-role" and caller.role_arn:
            owner = self.role(caller.role_arn)
        arn = getattr(owner, "permissions_boundary_arn", None)
        if not arn:
            return None
        policy = _iam(caller.account_id).managed_policies.get(arn)
        return _managed(policy) if policy is not None else None

    def resource_policy(self, arn: str, *, account_id: str, region: str, action: str | None = None) -> str | None:
        """The resource-based policy AWS consults for ``action`` on ``arn`` (labkit.actions reads moto)."""
        from labkit.actions import resource_policy

        return resource_policy(arn, account_id=account_id, region=region, action=action)

    def resource_tags(self, arn: str, *, account_id: str, region: str) -> dict[str, str]:
        """The tags on the resource ``arn`` (aws:ResourceTag, s3:ExistingObjectTag)."""
        from labkit.actions import resource_tags

        return resource_tags(arn, account_id=account_id, region=region)

    def principal_tags(self, caller: Caller) -> dict[str, str]:
        """aws:PrincipalTag values: the user's or role's tags, overridden by session tags."""
        iam = _iam(caller.account_id)
        tags: dict[str, str] = {}
        if caller.kind in ("user", "user-session", "federated-user") and caller.user_name:
            user = iam.users.get(caller.user_name)
            if user is not None:
                tags = {t["Key"]: t["Value"] for t in iam.tagger.list_tags_for_resource(user.arn).get("Tags", [])}
        elif caller.kind == "assumed-role" and caller.role_arn:
            role = self.role(caller.role_arn)
            if role is not None:
                tags = {t["Key"]: t["Value"] for t in role.tags}
        if caller.session is not None:
            # Session tags override the role's or user's tags with the same key, regardless of case
            # (id_session-tags.md, "Things to know about session tags").
            overridden = {k.lower() for k in caller.session.tags}
            tags = {k: v for k, v in tags.items() if k.lower() not in overridden}
            tags.update(caller.session.tags)
        return tags
