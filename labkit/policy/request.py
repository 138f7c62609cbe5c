"""A request to authorize: action, resource, caller and request context, normalised once."""

from __future__ import annotations

import base64
import math
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from labkit.errors import InvalidInput
from labkit.policy.principals import Who

__all__ = ["Request", "context_value"]

# Keys AWS always puts in the context but whose value is the moment of evaluation.
_TIME_KEYS = ("aws:currenttime", "aws:epochtime")
# Requests whose resource-based policy must itself allow the caller, even within one account:
# "IAM role trust policies and KMS key policies are exceptions to this logic, because they must
# explicitly allow access for principals" (reference_policies_evaluation-logic.md). A role's trust
# policy governs assuming (and tagging) its sessions; a key policy every KMS action on the key
# (KMS Developer Guide, key-policies.html: "No AWS principal ... has any permissions to a KMS key
# unless that permission is explicitly allowed in a key policy"). Every role and key has such a
# policy, so when none is given, none allows.
_TRUST_ACTIONS = ("sts:assumerole", "sts:tagsession", "sts:setsourceidentity", "sts:setcontext")


def _strict(action_l: str, resource: str) -> bool:
    if action_l.startswith("kms:"):
        parts = resource.split(":", 5)
        return len(parts) == 6 and parts[0] == "arn" and parts[2] == "kms" and parts[5].startswith("key/")
    if action_l.startswith(_TRUST_ACTIONS):
        parts = resource.split(":", 5)
        return len(parts) == 6 and parts[0] == "arn" and parts[2] == "iam" and parts[5].startswith("role/")
    return False


def context_value(value: Any, *, key: str = "") -> tuple[str, ...]:
    """A context value as the tuple of strings the engine compares, converted as AWS does."""
    if isinstance(value, (str, bool, int, float, bytes, datetime)):
        return (_one(value, key),)
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(_one(v, key) for v in value)
    raise InvalidInput(f"context value for {key!r} must be a string, number, bool or list of them, "
                       f"not {type(value).__name__}")


def _one(value: Any, key: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(f"context value for {key!r} must be a finite number")
        return repr(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime):
        when = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    raise InvalidInput(f"context value for {key!r} must be a string, number or bool, not {type(value).__name__}")


class Request:
    """One request: ``action`` on ``resource`` by ``principal`` (the caller's ARN).

    ``principal`` is an IAM user, role, assumed-role session, federated user or account root ARN,
    a service principal such as ``"ec2.amazonaws.com"``, or None (or ``"anonymous"``) for the
    anonymous caller of an unsigned request: SCPs do not apply to it, RCPs do, and only a
    resource-based policy can allow it. ``UNSPECIFIED`` (from labkit.policy.principals) is the
    caller of a simulation that names none: identity-based policies apply, with no principal keys. Facts the ARN does not
    carry are keyword options: ``role_path`` is the path of the role behind an assumed-role
    session (``"/aws-service-role/"`` marks a service-linked role), ``federated_by`` the IAM user
    ARN that called GetFederationToken. Anything else the policies test (principal tags, source
    IP, aws:userid...) goes in ``context``: condition key names are case-insensitive, values are
    strings or lists of strings (bools, numbers, bytes and datetimes are converted as AWS does).

    ``resource_account`` defaults to the account in the resource ARN, or to the caller's account
    when the ARN has none (S3 buckets and objects, ``"*"``).
    """

    __slots__ = ("action", "resource", "principal", "resource_account", "context", "role_path", "federated_by",
                 "who", "action_l", "ctx", "strict", "cross", "_now")

    def __init__(
        self,
        action: str,
        resource: str,
        principal: str | None,
        resource_account: str | None = None,
        context: Mapping[str, Any] | None = None,
        *,
        role_path: str | None = None,
        federated_by: str | None = None,
    ) -> None:
        if not isinstance(action, str) or ":" not in action.strip(":"):
            raise InvalidInput(f"action must look like 'service:Action', got {action!r}")
        if not isinstance(resource, str) or not resource:
            raise InvalidInput(f"resource must be a non-empty ARN string or '*', got {resource!r}")
        self.action = action
        self.resource = resource
        self.principal = principal
        self.role_path = role_path
        self.federated_by = federated_by
        try:
            who = _who(principal, role_path, federated_by)
        except TypeError:  # unhashable: let Who say what is wrong with it
            who = Who(principal, role_path=role_path, federated_by=federated_by)
        self.who = who
        self.action_l = action.lower()
        self.strict = _strict(self.action_l, resource)
        if resource_account is None:
            resource_account = _arn_account(resource) or who.account
        elif not isinstance(resource_account, str):
            raise InvalidInput("resource_account must be an account id string")
        self.resource_account = resource_account
        # Cross-account: the caller's account and the resource's are known and differ (an
        # unspecified caller is taken to be in the resource's account).
        self.cross = who.account is not None and resource_account is not None and resource_account != who.account
        ctx = dict(who.auto_keys)
        if context is None:
            context = {}
        elif type(context) is not dict and not isinstance(context, Mapping):
            raise InvalidInput(f"context must be a mapping of condition keys to values, not {type(context).__name__}")
        for key, value in context.items():
            if type(key) is not str or not key:
                raise InvalidInput(f"context keys must be non-empty strings, got {key!r}")
            ctx[key.lower()] = (value,) if type(value) is str else context_value(value, key=key)
        self.context = dict(context)
        self.ctx = ctx
        self._now: float | None = None

    def get(self, key_l: str) -> tuple[str, ...] | None:
        """The values of a lower-cased condition key in this request's context, None if missing."""
        values = self.ctx.get(key_l)
        if values is None and key_l in _TIME_KEYS:
            # aws:CurrentTime and aws:EpochTime are always present (reference_policies_condition-
            # keys.md); fixed at first use so one request sees one moment.
            if self._now is None:
                self._now = time.time()
            now = self._now
            self.ctx["aws:currenttime"] = (datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),)
            self.ctx["aws:epochtime"] = (str(int(now)),)
            values = self.ctx[key_l]
        return values

    def has(self, key_l: str) -> bool:
        """Whether the key has a value in this request, given or filled in by AWS's rules."""
        return key_l in self.ctx or key_l in _TIME_KEYS

    def __repr__(self) -> str:
        extra = "".join(f", {name}={getattr(self, name)!r}" for name in ("role_path", "federated_by")
                        if getattr(self, name) is not None)
        context = f", context={self.context!r}" if self.context else ""
        return (f"Request({self.action!r}, {self.resource!r}, {self.principal!r}, "
                f"resource_account={self.resource_account!r}{context}{extra})")


@lru_cache(maxsize=1024)
def _who(principal: str | None, role_path: str | None, federated_by: str | None) -> Who:
    """Callers repeat: parse each once (a Who is never changed after it is built)."""
    return Who(principal, role_path=role_path, federated_by=federated_by)


def _arn_account(resource: str) -> str | None:
    """The account field of an ARN when it is a 12-digit account id ("aws" for AWS managed
    policies and empty for S3 are not accounts)."""
    if not resource.startswith("arn:"):
        return None
    parts = resource.split(":", 5)
    if len(parts) < 6:
        return None
    account = parts[4]
    return account if len(account) == 12 and account.isascii() and account.isdigit() else None
