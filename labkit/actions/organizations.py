"""AWS Organizations: ARNs under the lab's organization (accounts, roots, OUs, policies, handshakes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from labkit.actions.mapping import Request, Rules, Value
from labkit.actions.model import Target
from labkit.actions.state import organization, organizations_policy_type

__all__ = ["RULES"]

_ID_PARAMS = ("TargetId", "ParentId", "SourceParentId", "DestinationParentId", "RootId", "OrganizationalUnitId",
              "ChildId", "AccountId")


def _ids(prefix: str) -> Callable[[Request], Value]:
    """The ids with ``prefix`` (``r-``, ``ou-``) any id parameter holds, without the prefix, which
    the ARN templates spell out (``root/o-${OrganizationId}/r-${RootId}``)."""

    def resolve(req: Request) -> Value:
        found = [v[len(prefix):] for p in _ID_PARAMS if isinstance(v := req.params.get(p), str) and v.startswith(prefix)]
        return found or None

    return resolve


def _accounts(req: Request) -> Value:
    found = [v for p in _ID_PARAMS if isinstance(v := req.params.get(p), str) and v.isdigit()]
    return found or None


def _org(req: Request) -> Value:
    """The lab's organization id; ``*`` outside one (Organizations then answers that it is not in use)."""
    found = organization(req.account)
    return found[0].removeprefix("o-") if found else "*"


def _management(req: Request) -> Value:
    found = organization(req.account)
    return found[1] if found else None


def _policy_id(req: Request) -> Value:
    value = req.params.get("PolicyId")
    return value.removeprefix("p-") if isinstance(value, str) and value else None


def _policy_type(req: Request) -> str | None:
    given = req.params.get("Type") if req.operation == "CreatePolicy" else req.params.get("PolicyType")
    if isinstance(given, str):
        return given
    policy = req.params.get("PolicyId")
    return organizations_policy_type(policy, req.account) if isinstance(policy, str) else None


def _context(req: Request, action: str) -> dict[str, Any]:
    kind = _policy_type(req)
    return {"organizations:PolicyType": kind} if kind else {}


RULES = {
    "organizations": Rules(
        "organizations",
        variables={
            "OrganizationId": _org,
            "Account": _management,
            "AccountId": _accounts,
            "RootId": _ids("r-"),
            "OrganizationalUnitId": _ids("ou-"),
            "HandshakeType": lambda req: "*" if req.params.get("HandshakeId") else None,  # not in the call
            "HandshakeId": lambda req: (req.params.get("HandshakeId") or "").removeprefix("h-") or None,
            "PolicyId": _policy_id,
            # an unknown policy's type is "*" (Organizations then answers that it does not exist)
            "PolicyType": lambda req: (_policy_type(req) or "*").lower() if req.params.get("PolicyId") or
            req.operation == "CreatePolicy" else None,
        },
        context=_context,
    )
}
_rules = RULES["organizations"]


@_rules.handler("DescribePolicy", "UpdatePolicy", "DeletePolicy", "AttachPolicy", "DetachPolicy",
                "ListTargetsForPolicy")
def _policy(req: Request) -> list[Target]:
    """AWS managed policies (``p-FullAWSAccess``) have their own ARNs, owned by ``aws``."""
    action = f"organizations:{req.operation}"
    if req.params.get("PolicyId") == "p-FullAWSAccess":
        arn = "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess"
        targets = req.targets(action, resources=[arn])
        others = [t for t in req.targets(action, values={"PolicyId": "FullAWSAccess"}) if ":policy/" not in t.resource]
        return targets + others
    return req.targets(action)
