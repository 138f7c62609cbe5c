"""Checks on Action and NotAction: real services and actions, redundancy, and risky iam:PassRole grants."""

from __future__ import annotations

import difflib
from typing import Any

from labkit.policy import catalog
from labkit.policy.jsonpos import JsonPath, Key
from labkit.policy.validate_core import Context, Entry, condition_keys, strings

__all__ = ["check_actions", "covers", "has_wildcard", "RESOURCE_POLICY_SERVICES"]

#: The service a resource policy of each validatePolicyResourceType may grant actions on and name ARNs of.
RESOURCE_POLICY_SERVICES = {
    "AWS::S3::Bucket": "s3",
    "AWS::S3::AccessPoint": "s3",
    "AWS::S3::MultiRegionAccessPoint": "s3",
    "AWS::S3ObjectLambda::AccessPoint": "s3-object-lambda",
    "AWS::DynamoDB::Table": "dynamodb",
    "AWS::IAM::AssumeRolePolicyDocument": "sts",
}


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def covers(pattern: str, other: str, *, ignore_case: bool) -> bool:
    """Whether everything ``other`` matches, ``pattern`` matches too (``s3:*`` covers ``s3:Get*``)."""
    if not has_wildcard(pattern):
        return pattern.lower() == other.lower() if ignore_case else pattern == other
    return catalog.wildcard_regex(pattern, ignore_case=ignore_case).fullmatch(other) is not None


def check_actions(ctx: Context) -> None:
    """Check every action name, then redundancy and iam:PassRole within each statement."""
    for path, statement in ctx.statements():
        valid = []
        for element in ("Action", "NotAction"):
            for entry in strings(path, statement, element):
                if _check_action(ctx, entry) and element == "Action":
                    valid.append(entry)
        _check_redundant(ctx, valid)
        if statement.get("Effect") == "Allow" and ctx.policy_type == "IDENTITY_POLICY":
            _check_sensitive_action(ctx, path, statement, "iam:PassRole", "PASS_ROLE")
            _check_sensitive_action(ctx, path, statement, "iam:CreateServiceLinkedRole", "CREATE_SLR")


def _suggest(word: str, choices: Any) -> str | None:
    lowered = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None


def _check_action(ctx: Context, entry: Entry) -> bool:
    """Report a malformed or unknown action; True when the action names something real."""
    action: str = entry.value
    if action == "*":
        return True
    if ctx.policy_type == "SERVICE_CONTROL_POLICY" and has_wildcard(action.rstrip("*")):
        ctx.add("SCP_SYNTAX_ERROR_ACTION_WILDCARD", f"In an SCP a wildcard may come only at the end of an "
                f"action, as in iam:Get*. Update {action}.", entry.path)
    service, colon, name = action.partition(":")
    if not colon or not service or not name:
        ctx.add("INVALID_ACTION", f"The action {action!r} is not of the form service:ActionName, as in "
                "s3:GetObject.", entry.path)
        return False
    if has_wildcard(service):
        ctx.add("WILDCARD_IN_SERVICE_NAME", f"The wildcard in the service part of {action} can match other "
                "services whose names happen to fit. Name the service exactly.", entry.path)
        return False
    if not catalog.service_exists(service):
        guess = _suggest(service, catalog.service_prefixes())
        hint = f" Did you mean {guess}?" if guess else ""
        ctx.add("INVALID_SERVICE_IN_ACTION", f"There is no AWS service with the prefix {service!r} in the "
                f"action {action}.{hint}", entry.path)
        return False
    if catalog.expand_action(action):
        if ctx.resource_type in RESOURCE_POLICY_SERVICES and service.lower() != RESOURCE_POLICY_SERVICES[
                ctx.resource_type]:
            ctx.add("UNSUPPORTED_ACTION_IN_POLICY", f"The action {action} cannot be granted in a policy attached "
                    f"to a {ctx.resource_type} resource.", entry.path)
        return True
    if has_wildcard(name):
        ctx.add("INVALID_ACTION", f"The pattern {action} matches no {service} action.", entry.path)
        return False
    guess = _suggest(name, catalog.action_names(service))
    hint = f" Did you mean {service.lower()}:{guess}?" if guess else ""
    ctx.add("INVALID_ACTION", f"The action {action} does not exist.{hint}", entry.path)
    return False


def _check_redundant(ctx: Context, actions: list[Entry]) -> None:
    redundant = []
    for j, entry in enumerate(actions):
        for i, other in enumerate(actions):
            if i != j and covers(other.value, entry.value, ignore_case=True):
                if i < j or not covers(entry.value, other.value, ignore_case=True):
                    redundant.append(entry)
                    break
    if redundant:
        ctx.add("REDUNDANT_ACTION", f"{len(redundant)} action(s) add nothing because another entry of the "
                f"statement already covers them, such as {redundant[0].value}. Remove them.",
                *(e.path for e in redundant))


_WORDING = {"PASS_ROLE": ("pass any matching role to any service", "iam:PassedToService"),
            "CREATE_SLR": ("create unintended service-linked roles", "iam:AWSServiceName")}


def _check_sensitive_action(ctx: Context, path: JsonPath, statement: dict[str, Any], action: str, prefix: str) -> None:
    """The six PASS_ROLE_* (security warnings) and CREATE_SLR_* (warnings) checks."""
    if "Action" in statement:
        matching = [e for e in strings(path, statement, "Action") if covers(e.value, action, ignore_case=True)]
        if not matching:
            return
        starred = all(has_wildcard(e.value) for e in matching)
        action_kind, action_path = ("STAR_IN_ACTION" if starred else ""), matching[0].path
    else:
        if any(covers(e.value, action, ignore_case=True) for e in strings(path, statement, "NotAction")):
            return
        action_kind, action_path = "NOT_ACTION", path + (Key("NotAction"),)
    what, narrowing_key = _WORDING[prefix]
    if "NotResource" in statement:
        code = {"": "WITH_NOT_RESOURCE", "STAR_IN_ACTION": "WITH_STAR_IN_ACTION_AND_NOT_RESOURCE",
                "NOT_ACTION": "WITH_NOT_ACTION_AND_NOT_RESOURCE"}[action_kind]
        where = path + (Key("NotResource"),)
        advice = "List the allowed role ARNs in Resource instead."
    else:
        role = catalog.resource_type("iam", "role")
        starred_resources = [e for e in strings(path, statement, "Resource")
                             if "*" in e.value and (e.value == "*" or role is None or role.matches(e.value))]
        if not starred_resources or narrowing_key.lower() in condition_keys(statement):
            return
        code = {"": "WITH_STAR_IN_RESOURCE", "STAR_IN_ACTION": "WITH_STAR_IN_ACTION_AND_RESOURCE",
                "NOT_ACTION": "WITH_STAR_IN_RESOURCE_AND_NOT_ACTION"}[action_kind]
        where = starred_resources[0].path
        advice = f"Name the role ARNs, or add the {narrowing_key} condition key."
    ctx.add(f"{prefix}_{code}", f"This statement grants {action} through wildcards or Not... elements, so it "
            f"can {what}. {advice}", action_path, where)
