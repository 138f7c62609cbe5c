"""Policy documents: parsed and checked as IAM does, compiled once into fast statements."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

from labkit.errors import InvalidInput, MalformedPolicyDocument
from labkit.policy.conditions import Condition, compile_conditions
from labkit.policy.patterns import ANY, LIT, Resolving, Template, compile_matcher, matches
from labkit.policy.principals import DIRECT, NONE, PrincipalSpec

__all__ = ["Policy", "Statement", "POLICY_TYPES", "IDENTITY_TYPES", "statement_keys"]

#: The policy simulator's SourcePolicyType words (botocore iam service model, PolicySourceType).
POLICY_TYPES = ("user", "group", "role", "aws-managed", "user-managed", "resource", "none")
IDENTITY_TYPES = frozenset({"user", "group", "role", "aws-managed", "user-managed"})
VERSIONS = ("2012-10-17", "2008-10-17")
_TOP = frozenset({"Version", "Id", "Statement"})
_ELEMENTS = frozenset({"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
                       "Resource", "NotResource", "Condition"})
_INDEX_LIMIT = 4096


def _strings(value: Any, element: str, where: str | int) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise MalformedPolicyDocument(f"{element} must be a string or a list of strings", statement=where, element=element)
    if not values:
        noun = "actions" if "Action" in element else "resources"
        raise MalformedPolicyDocument(f"Policy statement must contain {noun}", statement=where, element=element)
    return values


def _check_resource(template: Template, element: str, where: str | int) -> None:
    """IAM wants "*" or an ARN whose service (vendor) segment is spelled out: `arn:p:svc:r:acct:res`."""
    if template.text == "*":
        return
    text = "".join(t[1] if t[0] == LIT else "\0" for t in template.tokens)  # colons inside ${...} don't count
    segments = text.split(":", 5)
    if len(segments) < 6 or segments[0] != "arn":
        raise MalformedPolicyDocument(f'Resource {template.text} must be in ARN format or "*"', statement=where, element=element)
    if not segments[2] or any(c in segments[2] for c in "*?\0"):
        raise MalformedPolicyDocument(f"Resource vendor must be fully qualified and cannot contain wildcards: {template.text}",
                                      statement=where, element=element)


class Statement:
    """One compiled statement. ``index`` is its position, ``sid`` its Sid (or None)."""

    __slots__ = ("index", "sid", "effect", "deny", "actions", "not_action", "resource_test", "resources",
                 "not_resource", "principal", "not_principal", "conditions", "keys", "variable_keys", "resource_keys",
                 "check", "raw")

    def __init__(self, raw: dict, index: int, *, variables: bool, identity: bool) -> None:
        if not isinstance(raw, dict):
            raise MalformedPolicyDocument("Statement must be an object", statement=index)
        sid = raw.get("Sid")
        if sid is not None and not isinstance(sid, str):
            raise MalformedPolicyDocument("Sid must be a string", statement=index, element="Sid")
        where: str | int = sid if sid else index
        unknown = sorted(str(k) for k in raw if k not in _ELEMENTS)
        if unknown:
            raise MalformedPolicyDocument(f"Unknown policy element {unknown[0]!r}", statement=where, element=unknown[0])
        self.index, self.sid, self.raw = index, sid, raw
        self.effect = raw.get("Effect")
        if self.effect not in ("Allow", "Deny"):
            problem = "Missing required field Effect" if "Effect" not in raw else f"Invalid effect: {self.effect!r}"
            raise MalformedPolicyDocument(problem, statement=where, element="Effect")
        self.deny = self.effect == "Deny"
        self._compile_actions(raw, where)
        self._compile_resources(raw, where, variables=variables, identity=identity)
        self._compile_principal(raw, where, identity=identity)
        self.conditions: tuple[Condition, ...] = ()
        if "Condition" in raw:
            self.conditions = compile_conditions(raw["Condition"], variables=variables, statement=where)
        self.keys = tuple(c.key for c in self.conditions)
        self.resource_keys = self.variable_keys
        self.variable_keys = self.variable_keys + tuple(k for c in self.conditions for k in c.variable_keys)
        self.check = _combine(self.resource_test, self.conditions)

    def _compile_actions(self, raw: dict, where: str | int) -> None:
        if ("Action" in raw) == ("NotAction" in raw):
            problem = "both Action and NotAction" if "Action" in raw else "neither Action nor NotAction"
            raise MalformedPolicyDocument(f"Policy statement must contain exactly one of Action or NotAction, "
                                          f"not {problem}", statement=where, element="Action")
        element = "Action" if "Action" in raw else "NotAction"
        values = _strings(raw[element], element, where)
        for value in values:
            if value != "*" and ":" not in value.lstrip(":"):
                raise MalformedPolicyDocument(f"Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, "
                                              f"ec2, etc.: {value!r}", statement=where, element=element)
        self.not_action = element == "NotAction"
        # Actions are case-insensitive (reference_policies_elements_action.md): compare lower-cased.
        self.actions = compile_matcher([Template(v.lower(), variables=False, wildcards=True).tokens for v in values],
                                       arn=False)

    def _compile_resources(self, raw: dict, where: str | int, *, variables: bool, identity: bool) -> None:
        self.resource_test = None
        self.resources: tuple[str, ...] = ()
        self.not_resource = False
        self.variable_keys: tuple[str, ...] = ()
        if "Resource" in raw and "NotResource" in raw:
            raise MalformedPolicyDocument("Policy statement must not contain both Resource and NotResource",
                                          statement=where, element="Resource")
        if "Resource" not in raw and "NotResource" not in raw:
            if identity:
                raise MalformedPolicyDocument("Policy statement must contain resources", statement=where, element="Resource")
            return  # e.g. a role trust policy: the statement is about the resource it is attached to
        element = "Resource" if "Resource" in raw else "NotResource"
        values = _strings(raw[element], element, where)
        templates = [Template(v, variables=variables, wildcards=True) for v in values]
        for template in templates:
            _check_resource(template, element, where)
        self.resources, self.not_resource = tuple(values), element == "NotResource"
        self.variable_keys = tuple(k for t in templates for k in t.keys)
        negate = self.not_resource
        static = compile_matcher([t.tokens for t in templates if t.static], arn=True)
        if not self.variable_keys:
            if static is ANY:
                self.resource_test = (lambda request: False) if negate else None
            elif type(static) is frozenset:
                contains = static.__contains__
                self.resource_test = ((lambda request: not contains(request.resource)) if negate
                                      else (lambda request: contains(request.resource)))
            elif static[0] is None:
                fullmatch = static[1].fullmatch
                self.resource_test = ((lambda request: fullmatch(request.resource) is None) if negate
                                      else (lambda request: fullmatch(request.resource) is not None))
            else:
                self.resource_test = lambda request: matches(static, request.resource) != negate
            return
        # A variable with no value makes its resource entry match nothing
        # (reference_policies_variables.md, "Policy variables with no value").
        dynamic = Resolving([t for t in templates if not t.static], lambda tl: compile_matcher(tl, arn=True) if tl else frozenset())

        def test(request) -> bool:
            resource = request.resource
            hit = matches(static, resource) or matches(dynamic.get(request.get), resource)
            return hit != negate
        self.resource_test = test

    def _compile_principal(self, raw: dict, where: str | int, *, identity: bool) -> None:
        self.principal: PrincipalSpec | None = None
        self.not_principal = False
        if "Principal" in raw and "NotPrincipal" in raw:
            raise MalformedPolicyDocument("Policy statement must not contain both Principal and NotPrincipal",
                                          statement=where, element="Principal")
        for element in ("Principal", "NotPrincipal"):
            if element in raw:
                if identity:
                    raise MalformedPolicyDocument("Policy document should not specify a principal",
                                                  statement=where, element=element)
                self.principal = PrincipalSpec(raw[element], element=element, statement=where)
                self.not_principal = element == "NotPrincipal"

    @property
    def label(self) -> str:
        """The Sid, or ``#index`` for a statement without one."""
        return self.sid if self.sid else f"#{self.index}"

    def matches_action(self, action_l: str) -> bool:
        return matches(self.actions, action_l) != self.not_action

    def applies(self, request) -> bool:
        """Whether the Resource/NotResource and every condition match (the action already did)."""
        check = self.check
        return check is None or check(request)

    def grant(self, who) -> int:
        """For resource-based policies: how this statement's (Not)Principal reaches the caller."""
        spec = self.principal
        if spec is None:
            return NONE
        if self.not_principal:
            if self.deny:
                return NONE if spec.names_all(who) else DIRECT
            return NONE if spec.names_any(who) else DIRECT
        return spec.grant(who)

    def __repr__(self) -> str:
        return f"<Statement {self.label} {self.effect}>"


def _combine(resource_test, conditions):
    """One callable for the resource test and the conditions (None when nothing is to check), so
    that the engine makes a single call per statement."""
    tests = ([resource_test] if resource_test is not None else []) + list(conditions)
    if not tests:
        return None
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        first, second = tests
        return lambda request: first(request) and second(request)
    return lambda request: all(test(request) for test in tests)


class Policy:
    """A parsed, checked and compiled policy document. Immutable; build with
    :meth:`from_json` or :meth:`from_dict`."""

    __slots__ = ("text", "policy_id", "policy_type", "version", "id", "statements", "single", "_document",
                 "_index", "_spans")

    def __init__(self, document: Any, text: str, *, policy_id: str | None, policy_type: str | None) -> None:
        if policy_id is not None and not isinstance(policy_id, str):
            raise InvalidInput("policy_id must be a string")
        if policy_type is not None and policy_type not in POLICY_TYPES:
            raise InvalidInput(f"policy_type must be one of {', '.join(POLICY_TYPES)}, not {policy_type!r}")
        if not isinstance(document, dict):
            raise MalformedPolicyDocument("Syntax errors in policy: the document must be a JSON object")
        unknown = sorted(str(k) for k in document if k not in _TOP)
        if unknown:
            raise MalformedPolicyDocument(f"Syntax errors in policy: unknown element {unknown[0]!r}", element=unknown[0])
        version = document.get("Version", "2008-10-17")  # no Version means the 2008 language
        if version not in VERSIONS:
            raise MalformedPolicyDocument(f"The policy failed legacy parsing: Version must be 2012-10-17 or "
                                          f"2008-10-17, not {version!r}", element="Version")
        if "Id" in document and not isinstance(document["Id"], str):
            raise MalformedPolicyDocument("Id must be a string", element="Id")
        if "Statement" not in document:
            raise MalformedPolicyDocument("Syntax errors in policy: missing required element Statement", element="Statement")
        raw = document["Statement"]
        if not isinstance(raw, (dict, list)):
            raise MalformedPolicyDocument("Statement must be an object or a list of objects", element="Statement")
        identity = policy_type in IDENTITY_TYPES
        variables = version == "2012-10-17"  # variables are literal text under 2008-10-17
        statements = tuple(Statement(s, i, variables=variables, identity=identity)
                           for i, s in enumerate(raw if isinstance(raw, list) else [raw]))
        sids = [s.sid for s in statements if s.sid]
        if len(sids) != len(set(sids)):
            duplicate = next(sid for sid in sids if sids.count(sid) > 1)
            raise MalformedPolicyDocument("Statement IDs (SID) in a single policy must be unique",
                                          statement=duplicate, element="Sid")
        setattr_ = object.__setattr__
        for name, value in (("text", text), ("policy_id", policy_id), ("policy_type", policy_type),
                            ("version", version), ("id", document.get("Id")), ("statements", statements),
                            ("single", isinstance(raw, dict)), ("_document", document), ("_index", {}),
                            ("_spans", None)):
            setattr_(self, name, value)

    @classmethod
    def from_json(cls, text: str | bytes, *, policy_id: str | None = None, policy_type: str | None = None) -> Policy:
        """Parse policy JSON text; raise MalformedPolicyDocument where IAM would refuse it."""
        if isinstance(text, (bytes, bytearray)):
            try:
                text = bytes(text).decode("utf-8")
            except UnicodeDecodeError:
                raise MalformedPolicyDocument("Syntax errors in policy: the document must be UTF-8") from None
        if not isinstance(text, str):
            raise MalformedPolicyDocument(f"Syntax errors in policy: expected JSON text, not {type(text).__name__}")
        try:
            document = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
        except _Duplicate as dup:
            raise MalformedPolicyDocument(f"Syntax errors in policy: duplicate element {dup.args[0]!r}") from None
        except (ValueError, RecursionError) as error:
            raise MalformedPolicyDocument(f"Syntax errors in policy: {error}"[:500]) from None
        return cls(document, text, policy_id=policy_id, policy_type=policy_type)

    @classmethod
    def from_dict(cls, document: Any, *, policy_id: str | None = None, policy_type: str | None = None) -> Policy:
        """Check and compile a policy given as Python data (as json.loads would return it)."""
        _check_json_data(document)
        copied = copy.deepcopy(document)
        policy = cls(copied, "", policy_id=policy_id, policy_type=policy_type)
        object.__setattr__(policy, "text", json.dumps(copied, indent=4))
        return policy

    def tagged(self, *, policy_id: str | None = None, policy_type: str | None = None) -> Policy:
        """The same compiled policy under another id and type (no re-parsing)."""
        if policy_type is not None and policy_type not in POLICY_TYPES:
            raise InvalidInput(f"policy_type must be one of {', '.join(POLICY_TYPES)}, not {policy_type!r}")
        clone = object.__new__(Policy)
        for name in Policy.__slots__:
            object.__setattr__(clone, name, getattr(self, name))
        object.__setattr__(clone, "policy_id", policy_id)
        object.__setattr__(clone, "policy_type", policy_type)
        return clone

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Policy objects are immutable")

    @property
    def document(self) -> dict:
        """A copy of the parsed document."""
        return copy.deepcopy(self._document)

    def candidates(self, action_l: str) -> tuple[tuple[Statement, ...], tuple[Statement, ...]]:
        """(deny statements, allow statements) whose Action/NotAction matches a lower-cased action."""
        found = self._index.get(action_l)
        if found is None:
            hit = [s for s in self.statements if s.matches_action(action_l)]
            found = (tuple(s for s in hit if s.deny), tuple(s for s in hit if not s.deny))
            if len(self._index) >= _INDEX_LIMIT:
                self._index.clear()
            self._index[action_l] = found
        return found

    def statement_span(self, statement: Statement):
        """Where a statement sits in :attr:`text`: a jsonpos Span (1-based line, 0-based column)."""
        if self._spans is None:
            from labkit.policy.jsonpos import parse_with_positions

            object.__setattr__(self, "_spans", parse_with_positions(self.text)[1])
        path = ("Statement",) if self.single else ("Statement", statement.index)
        return self._spans.get(path)

    def __repr__(self) -> str:
        name = f" {self.policy_id!r}" if self.policy_id else ""
        kind = f" ({self.policy_type})" if self.policy_type else ""
        return f"<Policy{name}{kind}: {len(self.statements)} statement(s), Version {self.version}>"


class _Duplicate(Exception):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    # "Individual elements must not contain multiple instances of the same key"
    # (reference_policies_grammar.md, "Policy grammar notes").
    result: dict = {}
    for key, value in pairs:
        if key in result:
            raise _Duplicate(key)
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _check_json_data(value: Any, depth: int = 0) -> None:
    """Refuse Python data that JSON text could not have produced (non-string keys, NaN, sets...)."""
    if depth > 100:
        raise MalformedPolicyDocument("Syntax errors in policy: nested too deeply")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise MalformedPolicyDocument(f"Syntax errors in policy: object keys must be strings, not {key!r}"[:300])
            _check_json_data(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json_data(item, depth + 1)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise MalformedPolicyDocument("Syntax errors in policy: numbers must be finite")
    elif not (value is None or isinstance(value, (str, int, bool))):
        raise MalformedPolicyDocument(f"Syntax errors in policy: {type(value).__name__} is not a JSON value")


def statement_keys(statement: Statement) -> list[str]:
    """Condition keys a statement reads: its condition keys and the keys of its policy variables."""
    return list(statement.keys) + list(statement.variable_keys)

