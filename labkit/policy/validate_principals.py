"""Checks on the Principal element of resource policies and role trust policies."""

from __future__ import annotations

import re
from typing import Any

from labkit.policy.jsonpos import JsonPath, Key
from labkit.policy.validate_core import Context, Entry, condition_keys, strings

__all__ = ["check_principals"]

_KEYS = ("AWS", "Service", "Federated", "CanonicalUser")
_SERVICE = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com(\.cn)?")
_ACCOUNT = re.compile(r"[0-9]{12}")
_UNIQUE_ID = re.compile(r"[A-Z0-9]{16,128}")  # AIDA..., AROA...: unique IDs
_SOURCE_KEYS = {"aws:sourcearn", "aws:sourceaccount", "aws:sourceorgid", "aws:sourceorgpaths"}


def check_principals(ctx: Context) -> None:
    """Check what Principal and NotPrincipal hold, and who a resource or trust policy lets in."""
    if ctx.policy_type in ("IDENTITY_POLICY", "SERVICE_CONTROL_POLICY"):
        return  # reported as unsupported there
    for path, statement in ctx.statements():
        for element in ("Principal", "NotPrincipal"):
            if element in statement:
                _check_element(ctx, path + (element,), statement[element])
        principal = statement.get("Principal")
        if statement.get("Effect") != "Allow" or principal is None:
            continue
        if _is_public(principal):
            _check_public(ctx, path, statement)
        _check_service_principals(ctx, path, statement)
        _check_federated_actions(ctx, path, statement)


def _check_element(ctx: Context, path: JsonPath, value: Any) -> None:
    if value == "*":
        return
    if not isinstance(value, dict):
        ctx.add("INVALID_PRINCIPAL_FORMAT", 'Principal must be "*" or an object such as '
                '{"AWS": "arn:aws:iam::111122223333:root"}.', path)
        return
    if not value:
        ctx.add("EMPTY_OBJECT_PRINCIPAL", "The principal object is empty, so this statement applies to no one. "
                "Name the principals.", path)
    for key, names in value.items():
        if key not in _KEYS:
            ctx.add("INVALID_PRINCIPAL_KEY", f"{key!r} is not a kind of principal. Use AWS, Service, Federated "
                    "or CanonicalUser.", path + (Key(key),))
            continue
        if names == []:
            ctx.add("EMPTY_ARRAY_PRINCIPAL", f"The {key} array is empty, so it names no one. List principals or "
                    "remove it.", path + (key,))
        items = names if isinstance(names, list) else [names]
        for index, name in enumerate(items):
            where = path + (key, index) if isinstance(names, list) else path + (key,)
            if not isinstance(name, str):
                ctx.add("DATA_TYPE_MISMATCH", f"Each {key} principal must be a string.", where)
            else:
                _check_name(ctx, key, name, where)


def _check_name(ctx: Context, key: str, name: str, where: JsonPath) -> None:
    if name == "*" and key == "AWS":
        return
    if "*" in name or "?" in name:
        ctx.add("UNSUPPORTED_WILDCARD_IN_PRINCIPAL", f"Wildcards do not work inside a {key} principal "
                f"({name!r}). Name the principal exactly, or use \"*\" with a condition such as aws:PrincipalArn.",
                where)
    elif key == "AWS" and name.startswith("AIDA"):
        ctx.add("INVALID_USER_REFERENCE", f"{name} looks like an IAM user's unique ID. Use the user's ARN.", where)
    elif key == "AWS" and name.startswith("AROA"):
        ctx.add("INVALID_ROLE_REFERENCE", f"{name} looks like an IAM role's unique ID. Use the role's ARN.", where)
    elif key == "AWS" and not (name.startswith("arn:") or _ACCOUNT.fullmatch(name) or _UNIQUE_ID.fullmatch(name)):
        ctx.add("INVALID_PRINCIPAL_FORMAT", f"{name!r} is not an AWS principal: give \"*\", a 12-digit account ID, "
                "or the ARN of an account, user or role.", where)
    elif key == "Service" and not _SERVICE.fullmatch(name):
        ctx.add("INVALID_SERVICE_PRINCIPAL_FORMAT", f"{name!r} is not a service principal: those look like "
                "service-name.amazonaws.com.", where)


def _is_public(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        aws = principal.get("AWS")
        return aws == "*" or (isinstance(aws, list) and "*" in aws)
    return False


def _check_public(ctx: Context, path: JsonPath, statement: dict[str, Any]) -> None:
    where = path + ("Principal",)
    if ctx.is_trust_policy:
        ctx.add("ROLE_TRUST_POLICY_UNSUPPORTED_WILDCARD_IN_PRINCIPAL", 'A role trust policy cannot trust "*". '
                "Name the accounts, roles, services or identity providers allowed to assume the role.", where)
    elif not statement.get("Condition"):
        ctx.add("PUBLIC_PRINCIPAL_WITHOUT_CONDITION", 'This statement allows everyone ("*"), including anonymous '
                "callers, with no condition to narrow it. Name the principals, or add a condition such as "
                "aws:PrincipalOrgID or aws:SourceVpce.", where)


def _check_service_principals(ctx: Context, path: JsonPath, statement: dict[str, Any]) -> None:
    principal = statement["Principal"]
    if ctx.is_trust_policy or not isinstance(principal, dict) or "Service" not in principal:
        return
    actions = [e.value.lower() for e in strings(path, statement, "Action")]
    if actions and all(a.startswith("sts:") for a in actions):
        return  # a trust statement: services assume roles without a source
    if condition_keys(statement) & _SOURCE_KEYS:
        return
    for entry in strings(path + ("Principal",), principal, "Service"):
        ctx.add("RESTRICT_ACCESS_TO_SERVICE_PRINCIPAL", f"Granting {entry.value} access without saying on whose "
                "behalf lets the service act for any account (the confused deputy problem). Add an "
                "aws:SourceArn or aws:SourceAccount condition.", entry.path)


def _check_federated_actions(ctx: Context, path: JsonPath, statement: dict[str, Any]) -> None:
    principal = statement["Principal"]
    if not isinstance(principal, dict) or "Federated" not in principal:
        return
    federated: list[Entry] = strings(path + ("Principal",), principal, "Federated")
    for entry in strings(path, statement, "Action"):
        if entry.value.lower() == "sts:assumerole":
            names = ", ".join(f.value for f in federated)
            ctx.add("MISMATCHED_ACTION_FOR_PRINCIPAL", f"sts:AssumeRole does not work for the federated "
                    f"principal(s) {names}. Use sts:AssumeRoleWithWebIdentity for an OIDC provider or "
                    "sts:AssumeRoleWithSAML for a SAML provider.", entry.path, *(f.path for f in federated))
