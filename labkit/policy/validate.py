"""Validate a policy the way IAM Access Analyzer's ValidatePolicy does, offline."""

from __future__ import annotations

import json
from typing import Any

from labkit.errors import AwsError
from labkit.policy.jsonpos import JsonSyntaxError, Key, Position, Span, parse_with_positions
from labkit.policy.validate_actions import check_actions
from labkit.policy.validate_conditions import check_conditions
from labkit.policy.validate_core import ISSUES, Context, Finding, Findings, Location, sort_key
from labkit.policy.validate_document import check_document
from labkit.policy.validate_principals import check_principals
from labkit.policy.validate_resources import check_resources

__all__ = ["validate_policy", "Finding", "Findings", "Location", "ISSUES", "POLICY_TYPES", "RESOURCE_TYPES"]

POLICY_TYPES = ("IDENTITY_POLICY", "RESOURCE_POLICY", "SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY")
RESOURCE_TYPES = ("AWS::S3::Bucket", "AWS::S3::AccessPoint", "AWS::S3::MultiRegionAccessPoint",
                  "AWS::S3ObjectLambda::AccessPoint", "AWS::IAM::AssumeRolePolicyDocument", "AWS::DynamoDB::Table")


def validate_policy(
    document: str | dict[str, Any], *, policy_type: str = "IDENTITY_POLICY", resource_type: str | None = None
) -> Findings:
    """Check a policy and return its findings, as ValidatePolicy would (``.to_aws()`` gives its response).

    ``document`` is the policy's JSON text, or a dict, which is laid out with ``json.dumps(indent=4)``
    so that findings can point at lines. ``policy_type`` is one of :data:`POLICY_TYPES`; validate a role
    trust policy as ``RESOURCE_POLICY`` with ``resource_type="AWS::IAM::AssumeRolePolicyDocument"``.
    A document that is not valid JSON is a finding, never an exception; an unknown ``policy_type`` or
    ``resource_type`` raises :class:`~labkit.errors.AwsError` with code ``ValidationException``.
    """
    if policy_type not in POLICY_TYPES:
        raise AwsError(f"policyType must be one of {', '.join(POLICY_TYPES)}, not {policy_type!r}.",
                       code="ValidationException")
    if resource_type is not None and (resource_type not in RESOURCE_TYPES or policy_type != "RESOURCE_POLICY"):
        raise AwsError(f"validatePolicyResourceType must be one of {', '.join(RESOURCE_TYPES)} and needs "
                       f"policyType RESOURCE_POLICY; got {resource_type!r} with {policy_type}.",
                       code="ValidationException")
    text = _as_text(document)
    if isinstance(text, Findings):
        return text
    try:
        policy, spans = parse_with_positions(text, duplicate_keys="error")
        repeated = None
    except JsonSyntaxError as error:
        if not error.problem.startswith("Duplicate key"):
            return _syntax_error(text, error.problem, error.position)
        policy, spans = parse_with_positions(text)  # carry on with the last of the repeated keys
        repeated = error.position.offset
    ctx = Context(text, policy, spans, policy_type, resource_type)
    if repeated is not None:
        _report_repeated_key(ctx, repeated)
    if check_document(ctx):
        check_principals(ctx)
        check_actions(ctx)
        check_resources(ctx)
        check_conditions(ctx)
    return Findings(sorted(ctx.findings, key=sort_key))


def _report_repeated_key(ctx: Context, offset: int) -> None:
    key_path = next(p for p, span in ctx.spans.items() if p and isinstance(p[-1], Key) and span.start.offset == offset)
    name = key_path[-1].name  # type: ignore[union-attr]
    ctx.add("JSON_SYNTAX_ERROR", f"The key {name!r} appears more than once in the same object. IAM refuses such a "
            "policy, and other tools silently keep only one of the values. Merge them into one.", key_path)


def _as_text(document: Any) -> str | Findings:
    if isinstance(document, str):
        return document
    if isinstance(document, (bytes, bytearray)):
        try:
            return document.decode("utf-8")
        except UnicodeDecodeError as error:
            return _syntax_error("", f"The policy is not UTF-8 text ({error.reason} at byte {error.start})", None)
    try:
        return json.dumps(document, indent=4, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as error:
        return _syntax_error("", f"The policy cannot be written as JSON ({error})", None)


def _syntax_error(text: str, problem: str, position: Position | None) -> Findings:
    locations: tuple[Location, ...] = ()
    if position is not None:
        end_offset = position.offset + (text[position.offset : position.offset + 1] not in ("", "\n"))
        end = Position(position.line, position.column + (end_offset - position.offset), end_offset)
        locations = (Location((), Span(position, end)),)
        problem = f"{problem} at line {position.line}, column {position.column + 1}"
    finding_type, link = ISSUES["JSON_SYNTAX_ERROR"]
    details = f"The policy is not valid JSON: {problem}. Fix the syntax error."
    return Findings([Finding(finding_type, "JSON_SYNTAX_ERROR", details, link, locations)])
