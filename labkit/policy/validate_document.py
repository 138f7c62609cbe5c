"""Checks on a policy's shape: its top-level elements, each statement's elements, Sids and sizes."""

from __future__ import annotations

import json
import re
from typing import Any

from labkit.policy.jsonpos import JsonPath, Key
from labkit.policy.validate_core import Context, entries

__all__ = ["check_document"]

VERSIONS = ("2012-10-17", "2008-10-17")
_TOP = ("Version", "Id", "Statement")
_ELEMENTS = ("Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource",
             "Condition")
_PAIRS = (("Action", "NotAction"), ("Resource", "NotResource"), ("Principal", "NotPrincipal"))
_ALNUM = re.compile(r"[A-Za-z0-9]*")
_IDENTITY_QUOTA, _SCP_QUOTA = 6144, 5120


def check_document(ctx: Context) -> bool:
    """Check the policy's structure; False when it is too malformed for the element checks to run."""
    policy = ctx.policy
    if not isinstance(policy, dict):
        ctx.add("DATA_TYPE_MISMATCH", f"A policy must be a JSON object, not {_kind(policy)}.", ())
        return False
    for key in policy:
        if key not in _TOP:
            ctx.add("INVALID_POLICY_ELEMENT", f"{key!r} is not a policy element. A policy holds only "
                    "Version, Id and Statement.", (Key(key),))
    _check_version(ctx, policy)
    if "Id" in policy and not isinstance(policy["Id"], str):
        ctx.add("DATA_TYPE_MISMATCH", "The Id element must be a string.", ("Id",))
    _check_size(ctx)
    body = policy.get("Statement")
    if "Statement" not in policy:
        ctx.add("MISSING_STATEMENT", "The policy has no Statement element. Add at least one statement.", ())
        return False
    if not isinstance(body, (dict, list)):
        ctx.add("DATA_TYPE_MISMATCH", "Statement must be an object or an array of objects.", ("Statement",))
        return False
    if body == []:
        ctx.add("MISSING_STATEMENT", "The Statement array is empty. Add at least one statement.", ("Statement",))
    if isinstance(body, list):
        for index, item in enumerate(body):
            if not isinstance(item, dict):
                ctx.add("DATA_TYPE_MISMATCH", f"Each statement must be an object, not {_kind(item)}.",
                        ("Statement", index))
    for path, statement in ctx.statements():
        _check_statement(ctx, path, statement)
    _check_sids(ctx)
    _check_redundant_statements(ctx)
    return True


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a Boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _check_version(ctx: Context, policy: dict[str, Any]) -> None:
    version = policy.get("Version")
    if "Version" not in policy:
        ctx.add("MISSING_VERSION", 'Add "Version": "2012-10-17". Without it IAM assumes the old 2008-10-17 '
                "language, which has no policy variables.", ())
    elif not isinstance(version, str):
        ctx.add("DATA_TYPE_MISMATCH", "The Version element must be a string such as \"2012-10-17\".", ("Version",))
    elif version not in VERSIONS:
        ctx.add("INVALID_VERSION", f"{version!r} is not a policy language version. Use 2012-10-17 "
                "(or the older 2008-10-17).", ("Version",))
    if version != "2012-10-17":
        for path, statement in ctx.statements():
            for element in ("Resource", "NotResource", "Condition"):
                if "${" in json.dumps(statement.get(element, "")):
                    ctx.add("VARIABLE_UNSUPPORTED_IN_VERSION", "Policy variables such as ${aws:username} "
                            'work only with "Version": "2012-10-17"; here they are plain text.', path + (element,))
                    return


def _check_size(ctx: Context) -> None:
    size = len("".join(ctx.text.split()))
    if ctx.policy_type == "IDENTITY_POLICY" and size > _IDENTITY_QUOTA:
        ctx.add("POLICY_SIZE_EXCEEDS_IDENTITY_POLICY_QUOTA", f"The policy has {size} characters besides "
                f"whitespace, over the {_IDENTITY_QUOTA} IAM allows in a managed policy. Split it up.", ())
    elif ctx.policy_type == "SERVICE_CONTROL_POLICY" and size > _SCP_QUOTA:
        ctx.add("POLICY_SIZE_EXCEEDS_SCP_QUOTA", f"The SCP has {size} characters, over the {_SCP_QUOTA} "
                "AWS Organizations allows. Split it into several SCPs.", ())


def _check_statement(ctx: Context, path: JsonPath, statement: dict[str, Any]) -> None:
    for key in statement:
        if key not in _ELEMENTS:
            ctx.add("INVALID_POLICY_ELEMENT", f"{key!r} is not a statement element. Statements hold Sid, "
                    "Effect, Principal, Action, Resource and Condition (or their Not... forms).", path + (Key(key),))
    for element in ("Action", "NotAction", "Resource", "NotResource"):
        for entry in entries(path, statement, element):
            if not isinstance(entry.value, str):
                ctx.add("DATA_TYPE_MISMATCH", f"{element} takes a string or an array of strings, not "
                        f"{_kind(entry.value)}.", entry.path)
    for first, second in _PAIRS:
        if first in statement and second in statement:
            ctx.add("UNSUPPORTED_ELEMENT_COMBINATION", f"A statement can have {first} or {second}, not both. "
                    "Remove one of them.", path + (Key(first),), path + (Key(second),))
    _check_sid(ctx, path, statement)
    _check_effect(ctx, path, statement)
    if "Action" not in statement and "NotAction" not in statement:
        ctx.add("MISSING_ACTION", "The statement has no Action (or NotAction): say which actions it covers.", path)
    if statement.get("Action") == []:
        ctx.add("EMPTY_ARRAY_ACTION", "The Action array is empty, so this statement matches nothing. "
                "List the actions or remove the statement.", path + ("Action",))
    _check_resource_elements(ctx, path, statement)
    _check_principal_elements(ctx, path, statement)
    if ctx.policy_type == "SERVICE_CONTROL_POLICY" and statement.get("Effect") == "Allow":
        if "Condition" in statement:
            ctx.add("SCP_SYNTAX_ERROR_ALLOW_CONDITION", "In an SCP, only Deny statements may have a "
                    "Condition. Remove the Condition or make the statement a Deny.", path + (Key("Condition"),))
        if "NotAction" in statement:
            ctx.add("SCP_SYNTAX_ERROR_ALLOW_NOTACTION", "In an SCP, NotAction works only with Deny. "
                    "List the allowed actions in Action instead.", path + (Key("NotAction"),))


def _check_sid(ctx: Context, path: JsonPath, statement: dict[str, Any]) -> None:
    if "Sid" not in statement:
        return
    sid = statement["Sid"]
    if not isinstance(sid, str):
        ctx.add("DATA_TYPE_MISMATCH", "The Sid must be a string.", path + ("Sid",))
    elif sid == "":
        ctx.add("EMPTY_SID_VALUE", "The Sid is an empty string. Give it a name or remove it.", path + ("Sid",))
    elif _strict_sids(ctx) and not _ALNUM.fullmatch(sid):
        ctx.add("UNSUPPORTED_SID", f"The Sid {sid!r} may hold only letters A-Z, a-z and digits 0-9 "
                "in this policy type.", path + ("Sid",))


def _strict_sids(ctx: Context) -> bool:
    return ctx.policy_type != "RESOURCE_POLICY" or ctx.is_trust_policy


def _check_effect(ctx: Context, path: JsonPath, statement: dict[str, Any]) -> None:
    if "Effect" not in statement:
        ctx.add("MISSING_EFFECT", 'The statement has no Effect. Add "Effect": "Allow" or "Effect": "Deny".', path)
    elif not isinstance(statement["Effect"], str):
        ctx.add("DATA_TYPE_MISMATCH", 'Effect must be the string "Allow" or "Deny".', path + ("Effect",))
    elif statement["Effect"] not in ("Allow", "Deny"):
        ctx.add("INVALID_EFFECT", f"The Effect {statement['Effect']!r} is not valid: use exactly \"Allow\" or "
                '"Deny" (the case matters).', path + ("Effect",))


def _check_resource_elements(ctx: Context, path: JsonPath, statement: dict[str, Any]) -> None:
    has_any = "Resource" in statement or "NotResource" in statement
    if ctx.is_trust_policy:
        for element in ("Resource", "NotResource"):
            if element in statement:
                ctx.add("ROLE_TRUST_POLICY_SYNTAX_ERROR_RESOURCE", "A role trust policy applies to its own role: "
                        f"remove the {element} element.", path + (Key(element),))
        return
    needs_resource = ctx.policy_type == "IDENTITY_POLICY" or (
        ctx.policy_type == "RESOURCE_POLICY" and ctx.resource_type is not None)
    if not has_any and needs_resource:
        ctx.add("MISSING_RESOURCE", 'The statement has no Resource (or NotResource). Name the resources, or use '
                '"Resource": "*".', path)
    if statement.get("Resource") == []:
        ctx.add("EMPTY_ARRAY_RESOURCE", "The Resource array is empty, so this statement matches nothing. "
                "List the resources or remove the statement.", path + ("Resource",))
    if ctx.policy_type == "SERVICE_CONTROL_POLICY":
        if "NotResource" in statement:
            ctx.add("SCP_SYNTAX_ERROR_NOTRESOURCE", "SCPs do not support NotResource. Use Resource instead.",
                    path + (Key("NotResource"),))
        if statement.get("Effect") == "Allow" and statement.get("Resource", "*") not in ("*", ["*"]):
            ctx.add("SCP_SYNTAX_ERROR_ALLOW_RESOURCE", 'In an SCP, an Allow statement must use "Resource": "*"; '
                    "only Deny statements can name resources.", path + ("Resource",))


def _check_principal_elements(ctx: Context, path: JsonPath, statement: dict[str, Any]) -> None:
    present = [e for e in ("Principal", "NotPrincipal") if e in statement]
    if ctx.policy_type in ("IDENTITY_POLICY", "SERVICE_CONTROL_POLICY"):
        code = "UNSUPPORTED_PRINCIPAL" if ctx.policy_type == "IDENTITY_POLICY" else "SCP_SYNTAX_ERROR_PRINCIPAL"
        for element in present:
            kind = "An identity policy" if ctx.policy_type == "IDENTITY_POLICY" else "An SCP"
            ctx.add(code, f"{kind} applies to whoever it is attached to: remove the {element} element.",
                    path + (Key(element),))
        return
    if ctx.policy_type == "RESOURCE_POLICY" and not present:
        ctx.add("MISSING_PRINCIPAL", "A resource policy must say whom it applies to: add a Principal element.", path)
    if "NotPrincipal" in statement:
        if ctx.is_trust_policy:
            ctx.add("ROLE_TRUST_POLICY_SYNTAX_ERROR_NOTPRINCIPAL", "Role trust policies do not support "
                    "NotPrincipal. Name the trusted principals in Principal.", path + (Key("NotPrincipal"),))
        elif statement.get("Effect") == "Allow":
            ctx.add("ALLOW_WITH_NOT_PRINCIPAL", "Allow with NotPrincipal grants access to everyone not listed, "
                    "anonymous users included. Name the allowed principals in Principal instead.",
                    path + (Key("NotPrincipal"),))


def _check_sids(ctx: Context) -> None:
    seen: set[str] = set()
    code = "UNIQUE_SIDS_REQUIRED" if _strict_sids(ctx) else "UNIQUE_SIDS_RECOMMENDED"
    for path, statement in ctx.statements():
        sid = statement.get("Sid")
        if isinstance(sid, str) and sid:
            if sid in seen:
                ctx.add(code, f"Another statement already has the Sid {sid!r}. Give each statement its own Sid.",
                        path + ("Sid",))
            seen.add(sid)


def _check_redundant_statements(ctx: Context) -> None:
    seen: set[str] = set()
    for path, statement in ctx.statements():
        shape = json.dumps({k: _normal(k, v) for k, v in statement.items() if k != "Sid"}, sort_keys=True)
        if shape in seen:
            ctx.add("REDUNDANT_STATEMENT", "This statement grants or denies exactly what an earlier one does. "
                    "Remove one of them.", path)
        seen.add(shape)


def _normal(element: str, value: Any) -> Any:
    if element in ("Action", "NotAction", "Resource", "NotResource"):
        items = value if isinstance(value, list) else [value]
        if all(isinstance(item, str) for item in items):
            return sorted({item.lower() if "Action" in element else item for item in items})
    return value
