"""Checks on Resource and NotResource: well-formed ARNs, redundancy, and resources that fit the actions."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from labkit.policy import catalog
from labkit.policy.jsonpos import JsonPath
from labkit.policy.validate_actions import RESOURCE_POLICY_SERVICES, covers, has_wildcard
from labkit.policy.validate_core import Context, Entry, strings

__all__ = ["check_resources"]

PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")
_ACCOUNT = re.compile(r"[0-9]{12}")


def _is_literal(text: str) -> bool:
    return not has_wildcard(text) and "${" not in text


def check_resources(ctx: Context) -> None:
    """Check every resource ARN, then redundancy and the fit between actions and resources."""
    for path, statement in ctx.statements():
        resources = strings(path, statement, "Resource")
        sound = [e for e in resources if _check_arn(ctx, e)]
        for entry in strings(path, statement, "NotResource"):
            _check_arn(ctx, entry)
        _check_redundant(ctx, resources)
        if resources and len(sound) == len(resources) and "Action" in statement:
            _check_fit(ctx, path, statement, sound)


def _check_arn(ctx: Context, entry: Entry) -> bool:
    """Report what is wrong with one resource ARN; True when nothing is."""
    arn: str = entry.value
    if arn == "*":
        return True
    if not arn.startswith("arn:"):
        ctx.add("INVALID_ARN_PREFIX", f"{arn!r} is neither \"*\" nor an ARN: resource ARNs start with arn:, as in "
                "arn:aws:s3:::my-bucket.", entry.path)
        return False
    fields = arn.split(":", 5)
    if len(fields) < 6:
        if has_wildcard(fields[-1]):
            return True  # a final wildcard may stand for the missing fields, as in arn:aws:cloudfront:*
        ctx.add("MISSING_ARN_FIELD", f"{arn!r} has {len(fields)} fields; an ARN has six: "
                "arn:partition:service:region:account:resource (some may be empty).", entry.path)
        return False
    _, partition, service, region, account, _resource = fields
    if not service or not _is_literal(service):
        ctx.add("INVALID_SERVICE", f"The service part of {arn} must be spelled out: IAM allows no wildcard or "
                "variable there.", entry.path)
        return False
    if _is_literal(partition) and partition not in PARTITIONS:
        ctx.add("INVALID_PARTITION", f"{partition!r} is not an AWS partition. Use one of: "
                f"{', '.join(PARTITIONS)}.", entry.path)
        return False
    if service != service.lower():
        ctx.add("INVALID_ARN_SERVICE_CASE", f"Write the service {service!r} of the ARN in lower case.", entry.path)
        return False
    types = catalog.resource_types_for_arn_service(service)
    if not types:
        ctx.add("INVALID_SERVICE", f"No AWS service uses {service!r} in its ARNs.", entry.path)
        return False
    if ctx.resource_type in RESOURCE_POLICY_SERVICES and not ctx.is_trust_policy and (
            service != RESOURCE_POLICY_SERVICES[ctx.resource_type]):
        ctx.add("UNSUPPORTED_RESOURCE_ARN_IN_POLICY", f"A policy attached to a {ctx.resource_type} resource "
                f"cannot name {service} resources.", entry.path)
        return False
    return _check_region_account(ctx, entry, region, account) and _check_resource_part(ctx, entry, types)


@lru_cache(maxsize=None)
def _template_fields(arn_service: str) -> tuple[frozenset[str], frozenset[str]]:
    """The Region fields and account fields found in the service's ARN templates."""
    fields = [t.arn.split(":", 5) for t in catalog.resource_types_for_arn_service(arn_service)]
    return frozenset(f[3] for f in fields), frozenset(f[4] for f in fields)


def _check_region_account(ctx: Context, entry: Entry, region: str, account: str) -> bool:
    service = entry.value.split(":")[2]
    regions, accounts = _template_fields(service)
    if _is_literal(region):
        if region and regions == {""}:
            ctx.add("ARN_REGION_NOT_ALLOWED", f"{service} ARNs have no Region: leave that field empty, as in "
                    f"arn:aws:{service}::...", entry.path)
            return False
        if not region and "" not in regions:
            ctx.add("MISSING_ARN_REGION", f"{service} ARNs need a Region, such as us-east-1.", entry.path)
            return False
        if region and region not in regions and not _REGION.fullmatch(region):
            ctx.add("INVALID_ARN_REGION", f"{region!r} is not an AWS Region code such as us-east-1.", entry.path)
            return False
    if _is_literal(account) and account:
        if accounts == {""}:
            ctx.add("ARN_ACCOUNT_NOT_ALLOWED", f"{service} ARNs have no account ID: leave that field empty.",
                    entry.path)
            return False
        if not _ACCOUNT.fullmatch(account) and account not in accounts and account != "aws":
            ctx.add("INVALID_ARN_ACCOUNT", f"The account ID {account!r} is not valid: account IDs have 12 digits.",
                    entry.path)
            return False
    return True


def _check_resource_part(ctx: Context, entry: Entry, types: Any) -> bool:
    fields = entry.value.split(":", 5)
    loose = ":".join(["arn", "*", fields[2], "*", "*", fields[5]])  # only the resource part is in question
    if any(t.matches(loose) for t in types):
        return True
    examples = "; ".join(sorted({t.arn for t in types})[:3])
    ctx.add("INVALID_ARN_RESOURCE", f"The resource part of {entry.value} fits no {fields[2]} resource type. "
            f"{fields[2]} ARNs look like: {examples}.", entry.path)
    return False


def _check_redundant(ctx: Context, resources: list[Entry]) -> None:
    redundant = []
    for j, entry in enumerate(resources):
        for i, other in enumerate(resources):
            if i != j and covers(other.value, entry.value, ignore_case=False):
                if i < j or not covers(entry.value, other.value, ignore_case=False):
                    redundant.append(entry)
                    break
    if redundant:
        ctx.add("REDUNDANT_RESOURCE", f"{len(redundant)} resource ARN(s) add nothing because another entry of the "
                f"statement already matches them, such as {redundant[0].value}. Check the wildcards.",
                *(e.path for e in redundant))


def _check_fit(ctx: Context, path: JsonPath, statement: dict[str, Any], resources: list[Entry]) -> None:
    """RESOURCE_TYPE_MISMATCH: an action that none of the statement's resources can apply to."""
    arns = [e.value for e in resources]
    if any(not arn.startswith("arn:") or len(arn.split(":", 5)) < 6 or not _is_literal(arn.split(":")[2])
           for arn in arns):
        return  # "*" or a wildcard service: something may fit
    for entry in strings(path, statement, "Action"):
        if has_wildcard(entry.value) or catalog.action_info(entry.value) is None:
            continue
        wanted = catalog.action_resource_types(entry.value)
        if not wanted or any(_fits(arn, wanted) for arn in arns):
            continue  # an action without resource types is left to the engine: its request ARN varies
        kinds = ", ".join(f"{t.name} ({t.arn})" for t in wanted)
        ctx.add("RESOURCE_TYPE_MISMATCH", f"None of this statement's resources is of a type "
                f"{catalog.canonical_action(entry.value)} works on: {kinds}. So the statement never applies to "
                "that action.", entry.path)


@lru_cache(maxsize=16384)
def _fits(arn: str, wanted: tuple[catalog.ResourceType, ...]) -> bool:
    fields = arn.split(":", 5)
    arn = ":".join(["arn", "*", fields[2], "*", "*", fields[5]])  # the type is in the resource part
    if not any(t.matches(arn) for t in wanted):
        return False
    if any(t.matches(arn, strict=True) for t in wanted):
        return True
    # Only loosely a fit: believe it unless the ARN is clearly of another type of that service.
    others = catalog.resource_types_for_arn_service(arn.split(":")[2])
    return not any(t.matches(arn, strict=True) for t in others if t not in wanted)
