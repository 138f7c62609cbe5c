"""The policies of an IAM user, group or role, gathered as SimulatePrincipalPolicy does, through boto3."""

from __future__ import annotations

import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from labkit.apis import ApiError
from labkit.errors import AwsError
from labkit.policy import Policy

__all__ = ["PolicySource", "Principal", "principal_policies", "exclude", "compile_policy", "parse_entity_arn"]

_ENTITY_ARN = re.compile(r"arn:aws:iam::(?P<account>[0-9]{12}):(?P<kind>user|group|role)(?P<path>/(?:[^/]+/)*)(?P<name>[^/]+)")
_KIND_TYPES = {"user": "user", "group": "group", "role": "role"}
_POLICY_ARN = re.compile(r"arn:aws:iam::(?:aws|[0-9]{12}):policy/(?P<name>.+)")
_EXCLUSION_TYPES = ("inline", "aws-managed", "user-managed", "permission-boundary", "scp", "rcp")


@dataclass(frozen=True)
class PolicySource:
    """One policy that applies to a principal, and where it comes from.

    ``kind`` is the PolicyExclusionList word for it: "inline", "aws-managed", "user-managed" or
    "permission-boundary". Inline policies name the entity they are embedded in
    (``attachment_type``, ``attachment_name``); managed policies carry their ``arn``.
    """

    policy: Policy
    kind: str
    name: str
    arn: str | None = None
    attachment_type: str | None = None
    attachment_name: str | None = None


@dataclass(frozen=True)
class Principal:
    """An IAM user, group or role with the policies IAM evaluates for it."""

    arn: str
    kind: str  # "user", "group" or "role"
    name: str
    policies: tuple[PolicySource, ...]
    boundary: PolicySource | None


@lru_cache(maxsize=1024)
def compile_policy(text: str, policy_id: str, policy_type: str) -> Policy:
    """A policy compiled once per (text, id, type); raises MalformedPolicyDocument as IAM would."""
    return Policy.from_json(text, policy_id=policy_id, policy_type=policy_type)


def parse_entity_arn(arn: str, account_id: str) -> tuple[str, str]:
    """(kind, name) of a user, group or role ARN in the lab account; ApiError as IAM answers otherwise."""
    match = _ENTITY_ARN.fullmatch(arn) if isinstance(arn, str) else None
    if match is None:
        raise ApiError("InvalidInput", f"Invalid Entity Arn: {arn} does not clearly define entity type and name.")
    if match["account"] != account_id:
        raise ApiError("InvalidInput", f"Invalid Policy Source Arn: caller's account {account_id} does not have "
                                       f"access to policies in account {match['account']}")
    return match["kind"], match["name"]


# The account's own IAM clients whose responses keep policy documents as IAM stored them (boto3
# turns them into dicts), so that statement positions refer to the text as written.
_RAW_CLIENTS: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def _raw_iam(lab: Any, account_id: str) -> Any:
    from botocore.handlers import json_decode_policies

    from labkit.interceptor import internal_client

    cached = _RAW_CLIENTS.setdefault(lab, {})
    client = cached.get(account_id)
    if client is None:
        client = cached[account_id] = internal_client("iam", account_id, lab.region)
        client.meta.events.unregister("after-call.iam", json_decode_policies)
    return client


def _text(document: Any) -> str:
    if isinstance(document, str):
        return unquote(document)
    import json

    return json.dumps(document)


class _Reader:
    """Reads one principal's policies; managed policies are fetched once per call."""

    def __init__(self, lab: Any, account_id: str) -> None:
        self.iam = _raw_iam(lab, account_id)
        self.managed: dict[str, PolicySource] = {}

    def pages(self, operation: str, key: str, **params: Any) -> list[Any]:
        return [item for page in self.iam.get_paginator(operation).paginate(**params) for item in page[key]]

    def inline(self, kind: str, name: str) -> list[PolicySource]:
        param = {"user": "UserName", "group": "GroupName", "role": "RoleName"}[kind]
        found = []
        for policy_name in self.pages(f"list_{kind}_policies", "PolicyNames", **{param: name}):
            document = getattr(self.iam, f"get_{kind}_policy")(**{param: name, "PolicyName": policy_name})["PolicyDocument"]
            policy = self.compile(_text(document), f"{kind}_{name}_{policy_name}", _KIND_TYPES[kind], f"{kind} {name}")
            found.append(PolicySource(policy, "inline", policy_name, attachment_type=kind, attachment_name=name))
        return found

    def attached(self, kind: str, name: str) -> list[PolicySource]:
        param = {"user": "UserName", "group": "GroupName", "role": "RoleName"}[kind]
        return [self.managed_policy(item["PolicyArn"])
                for item in self.pages(f"list_attached_{kind}_policies", "AttachedPolicies", **{param: name})]

    def managed_policy(self, arn: str, *, kind: str | None = None) -> PolicySource:
        key = f"{kind}:{arn}"
        if key not in self.managed:
            policy = self.iam.get_policy(PolicyArn=arn)["Policy"]
            version = self.iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]
            managed = "aws-managed" if arn.startswith("arn:aws:iam::aws:") else "user-managed"
            compiled = self.compile(_text(version["Document"]), policy["PolicyName"], managed, f"policy {arn}")
            self.managed[key] = PolicySource(compiled, kind or managed, policy["PolicyName"], arn=arn)
        return self.managed[key]

    def boundary(self, entity: dict[str, Any]) -> PolicySource | None:
        arn = (entity.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        return self.managed_policy(arn, kind="permission-boundary") if arn else None

    @staticmethod
    def compile(text: str, policy_id: str, policy_type: str, where: str) -> Policy:
        try:
            return compile_policy(text, policy_id, policy_type)
        except AwsError as error:
            # IAM would not have stored it; moto did. Answer with the simulator's error for a policy
            # it cannot evaluate, but as a client error: botocore retries a 500 four times.
            raise ApiError("PolicyEvaluation", f"The policy {policy_id} of {where} could not be evaluated: "
                                               f"{error.message}") from None


def principal_policies(lab: Any, arn: str, *, account_id: str | None = None) -> Principal:
    """The user's, group's or role's policies, read with admin boto3 calls from ``account_id``
    (the caller's account; the lab's own by default), which the ARN must name.

    A user gets their inline and attached policies and those of every group they belong to; a
    role its own; a group its own. Users and roles also get their permissions boundary.
    """
    account_id = account_id or lab.account_id
    kind, name = parse_entity_arn(arn, account_id)
    reader = _Reader(lab, account_id)
    iam = reader.iam
    try:
        entity = getattr(iam, f"get_{kind}")(**{f"{kind.capitalize()}Name": name})[kind.capitalize()]
    except iam.exceptions.NoSuchEntityException:
        raise ApiError("NoSuchEntity", f"The {kind} with name {name} cannot be found.", status=404) from None
    if entity["Arn"] != arn:  # same name, another path
        raise ApiError("NoSuchEntity", f"The {kind} with name {name} cannot be found.", status=404)
    policies = reader.inline(kind, name) + reader.attached(kind, name)
    if kind == "user":
        for group in reader.pages("list_groups_for_user", "Groups", UserName=name):
            policies += reader.inline("group", group["GroupName"]) + reader.attached("group", group["GroupName"])
    boundary = reader.boundary(entity) if kind != "group" else None
    unique = tuple(dict.fromkeys(policies))  # a managed policy attached to the user and a group counts once
    return Principal(arn, kind, name, unique, boundary)


def exclude(principal: Principal, identifiers: Sequence[dict[str, Any]]) -> Principal:
    """The principal without the policies PolicyExclusionList names (SimulatePrincipalPolicy).

    A PolicyIdentifier names policies by PolicyType (all inline, aws-managed, user-managed policies,
    or the permission-boundary), by PolicyArn (attached managed policies; one ``*`` and any ``?`` in
    the name), or by InlinePolicyIdentifier (PolicyName, AttachmentType, AttachmentName with the
    same wildcards). Malformed identifiers are InvalidInput; ones that match nothing are ignored,
    as are scp and rcp (the lab account is in no organization).
    """
    tests = [_exclusion(identifier) for identifier in identifiers]
    if not tests:
        return principal
    kept = tuple(source for source in principal.policies if not any(test(source) for test in tests))
    boundary = principal.boundary
    if boundary is not None and any(test(boundary) for test in tests):
        boundary = None
    return replace(principal, policies=kept, boundary=boundary)


def _exclusion(identifier: Any) -> Any:
    members = [key for key, value in identifier.items() if value is not None] if isinstance(identifier, dict) else []
    if len(members) != 1:
        raise ApiError("InvalidInput", "Each PolicyExclusionList entry must set exactly one of PolicyType, PolicyArn "
                                       "or InlinePolicyIdentifier.")
    member, value = members[0], identifier[members[0]]
    if member == "PolicyType":
        if value not in _EXCLUSION_TYPES:
            raise ApiError("InvalidInput", f"Invalid PolicyType {value!r} in PolicyExclusionList: use one of "
                                           f"{', '.join(_EXCLUSION_TYPES)}.")
        return lambda source: source.kind == value
    if member == "PolicyArn":
        match = _POLICY_ARN.fullmatch(value) if isinstance(value, str) else None
        head = value[: value.find(":policy/")] if isinstance(value, str) else ""
        if match is None or any(c in head for c in "*?") or match["name"].count("*") > 1:
            raise ApiError("InvalidInput", f"Invalid PolicyArn {value!r} in PolicyExclusionList: wildcards (one *, any "
                                           "number of ?) are allowed only in the policy name.")
        pattern = _wildcards(value)
        return lambda source: (source.arn is not None and source.kind != "permission-boundary"
                               and pattern.fullmatch(source.arn) is not None)
    if member == "InlinePolicyIdentifier":
        attachment = value.get("AttachmentName", "")
        if value.get("AttachmentType") not in ("user", "group", "role") or attachment.count("*") > 1:
            raise ApiError("InvalidInput", "Invalid InlinePolicyIdentifier in PolicyExclusionList: AttachmentType must "
                                           "be user, group or role, and AttachmentName may hold at most one *.")
        pattern = _wildcards(attachment)
        return lambda source: (source.kind == "inline" and source.name == value.get("PolicyName")
                               and source.attachment_type == value["AttachmentType"]
                               and pattern.fullmatch(source.attachment_name or "") is not None)
    raise ApiError("InvalidInput", f"Unknown PolicyExclusionList member {member!r}.")


def _wildcards(text: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text))
