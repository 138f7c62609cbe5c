"""Condition operators: a Condition block compiled once, then tested against each request."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import math
import operator
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from labkit.errors import MalformedPolicyDocument
from labkit.policy.patterns import Resolving, Template, compile_matcher, literal, matches

__all__ = ["Condition", "compile_conditions", "OPERATORS"]

# Families of operators (reference_policies_elements_condition_operators.md).
EQ, EQI, LIKE, NUM, DATE, BOOL, BIN, IP, ARN, NULL = range(10)
# Set qualifiers (reference_policies_multi-value-conditions.md).
PLAIN, ALL, ANY_VALUE = 0, 1, 2

_CMP = {"Equals": operator.eq, "LessThan": operator.lt, "LessThanEquals": operator.le,
        "GreaterThan": operator.gt, "GreaterThanEquals": operator.ge}

#: Every operator: name -> (family, negated, comparison). Negated operators are stored as the
#: negation of their positive twin: "none of the policy values match".
OPERATORS: dict[str, tuple[int, bool, Callable | None]] = {
    "StringEquals": (EQ, False, None), "StringNotEquals": (EQ, True, None),
    "StringEqualsIgnoreCase": (EQI, False, None), "StringNotEqualsIgnoreCase": (EQI, True, None),
    "StringLike": (LIKE, False, None), "StringNotLike": (LIKE, True, None),
    "Bool": (BOOL, False, None), "BinaryEquals": (BIN, False, None),
    "IpAddress": (IP, False, None), "NotIpAddress": (IP, True, None),
    "ArnEquals": (ARN, False, None), "ArnLike": (ARN, False, None),
    "ArnNotEquals": (ARN, True, None), "ArnNotLike": (ARN, True, None),
    "Null": (NULL, False, None),
}
for _family, _prefix in ((NUM, "Numeric"), (DATE, "Date")):
    OPERATORS[f"{_prefix}NotEquals"] = (_family, True, operator.eq)
    for _suffix, _cmp in _CMP.items():
        OPERATORS[f"{_prefix}{_suffix}"] = (_family, False, _cmp)
_BY_LOWER = {name.lower(): name for name in OPERATORS}
# Policy variables work in string and ARN operators (reference_policies_variables.md, "Condition
# element"); the operators page also allows them with Bool, so labkit substitutes there too.
_VARIABLE_FAMILIES = frozenset({EQ, EQI, LIKE, ARN, BOOL})

_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_EPOCH = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
# The W3C profile of ISO 8601: YYYY[-MM[-DD[Thh:mm[:ss[.s]][TZD]]]]; a missing zone means UTC.
_ISO = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2})(?:[Tt ]([0-9]{2}):([0-9]{2})"
                  r"(?::([0-9]{2})(?:\.([0-9]+))?)?)?)?)?\s*(Z|z|[+-][0-9]{2}:?[0-9]{2})?")


def parse_number(text: str) -> float | None:
    if not _NUMBER.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def parse_date(text: str) -> float | None:
    """Seconds since the epoch for an ISO 8601 (W3C profile) date or a number of epoch seconds."""
    if _EPOCH.fullmatch(text):
        value = float(text)
        return value if math.isfinite(value) else None
    match = _ISO.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        when = datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
                        int(second or 0), tzinfo=timezone.utc)
    except ValueError:
        return None
    seconds = when.timestamp() + (float(f"0.{fraction}") if fraction else 0.0)
    if zone and zone not in "Zz":
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:])).total_seconds()
        seconds -= offset if zone[0] == "+" else -offset
    return seconds


def _bytes(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return value.encode("utf-8", "surrogatepass")


def _network(text: str):
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def _address(text: str):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _builder(family: int, cmp: Callable | None) -> Callable[[list[tuple]], Callable[[str], bool]]:
    """A function from the policy's (resolved) values to a test of one request value."""
    if family in (LIKE, ARN):
        def build(token_lists):
            matcher = compile_matcher(token_lists, arn=family == ARN)
            return lambda value: matches(matcher, value)
        return build
    if family == EQ:
        return lambda token_lists: frozenset(literal(t) for t in token_lists).__contains__
    if family in (EQI, BOOL):
        def build_folded(token_lists):
            wanted = frozenset(literal(t).lower() for t in token_lists)
            return lambda value: value.lower() in wanted
        return build_folded
    if family in (NUM, DATE):
        parse = parse_number if family == NUM else parse_date

        def build_ordered(token_lists):
            limits = [x for x in (parse(literal(t)) for t in token_lists) if x is not None]

            def test(value: str) -> bool:
                number = parse(value)
                return number is not None and any(cmp(number, limit) for limit in limits)
            return test
        return build_ordered
    if family == BIN:
        def build_binary(token_lists):
            wanted = set()
            for tokens in token_lists:
                try:
                    wanted.add(base64.b64decode(literal(tokens), validate=True))
                except (binascii.Error, ValueError):
                    pass  # not base64: equals nothing
            return lambda value: _bytes(value) in wanted
        return build_binary
    if family == IP:
        def build_ip(token_lists):
            networks = [n for n in (_network(literal(t)) for t in token_lists) if n is not None]

            def test(value: str) -> bool:
                address = _address(value)
                return address is not None and any(
                    address.version == net.version and address in net for net in networks)
            return test
        return build_ip
    raise AssertionError(family)  # pragma: no cover


class Condition:
    """One (operator, key, values) test of a Condition block."""

    __slots__ = ("operator", "key", "key_l", "values", "family", "negated", "set_op", "if_exists",
                 "test", "dynamic", "variable_keys", "_expect")

    def __init__(self, op: str, key: str, values: list[str], *, variables: bool, statement: str | int) -> None:
        self.operator, self.key, self.key_l, self.values = op, key, key.lower(), tuple(values)
        qualifier, _, base = op.rpartition(":")
        self.set_op = {"": PLAIN, "forallvalues": ALL, "foranyvalue": ANY_VALUE}.get(qualifier.lower())
        self.if_exists = base.lower().endswith("ifexists") and base.lower() != "ifexists"
        name = _BY_LOWER.get(base.lower()[: -len("ifexists")] if self.if_exists else base.lower())
        if self.set_op is None or name is None or (name == "Null" and self.if_exists):
            raise MalformedPolicyDocument(f"Invalid Condition type : {op}", statement=statement, element="Condition")
        self.family, self.negated, cmp = OPERATORS[name]
        self.dynamic: Resolving | None = None
        self.variable_keys: tuple[str, ...] = ()
        self._expect = frozenset(v.lower() for v in values) if self.family == NULL else frozenset()
        if self.family == NULL:
            self.test = None
            return
        templates = [Template(v, variables=variables and self.family in _VARIABLE_FAMILIES,
                              wildcards=self.family in (LIKE, ARN)) for v in values]
        self.variable_keys = tuple(k for t in templates for k in t.keys)
        build = _builder(self.family, cmp)
        if self.variable_keys:
            self.dynamic = Resolving(templates, build)
            self.test = None
        else:
            self.test = build([t.tokens for t in templates])

    def __call__(self, request) -> bool:
        values = request.get(self.key_l)
        if self.family == NULL:
            # Null: "true" means the key is absent, "false" that it is present.
            present = bool(values)
            return ("false" in self._expect and present) or ("true" in self._expect and not present)
        if not values or (self.set_op == ALL and all(v == "" for v in values)):
            # A missing key never matches, so a negated operator is true; ...IfExists is true;
            # ForAllValues is true and ForAnyValue false for a missing or empty set of values.
            if self.if_exists and not values:
                return True
            if self.set_op != PLAIN:
                return self.set_op == ALL
            return self.negated
        test = self.test if self.dynamic is None else self.dynamic.get(request.get)
        if self.set_op == PLAIN:
            if len(values) == 1:
                return test(values[0]) != self.negated
            return any(test(v) for v in values) != self.negated
        if self.set_op == ALL:
            if self.negated:
                return not any(test(v) for v in values)
            return all(test(v) for v in values)
        if self.negated:
            return not all(test(v) for v in values)
        return any(test(v) for v in values)

    def __repr__(self) -> str:
        return f"Condition({self.operator!r}, {self.key!r}, {list(self.values)!r})"


def _value_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    return None


def compile_conditions(block: Any, *, variables: bool, statement: str | int) -> tuple[Condition, ...]:
    """Compile a Condition element; every operator and every key in it must hold (AND)."""
    if not isinstance(block, dict):
        raise MalformedPolicyDocument("Condition must be an object", statement=statement, element="Condition")
    conditions = []
    for op, body in block.items():
        if not isinstance(body, dict):
            raise MalformedPolicyDocument(f"Condition operator {op} must map condition keys to values",
                                          statement=statement, element="Condition")
        for key, raw in body.items():
            if not isinstance(key, str) or ":" not in key.lstrip(":"):
                raise MalformedPolicyDocument(f"Condition key {key!r} must be prefaced by a vendor, e.g. aws:",
                                              statement=statement, element="Condition")
            raws = raw if isinstance(raw, list) else [raw]
            values = [_value_text(v) for v in raws]
            if None in values:
                raise MalformedPolicyDocument(f"Condition values for {key} must be strings, numbers or booleans",
                                              statement=statement, element="Condition")
            conditions.append(Condition(op, key, values, variables=variables, statement=statement))
    return tuple(conditions)
