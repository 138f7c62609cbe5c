"""Policies of one layer taken together, with one action index across all of them (cached)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from labkit.errors import InvalidInput
from labkit.policy.document import Policy

__all__ = ["PolicySet", "EMPTY", "as_policy", "policy_set", "levels"]

_INDEX_LIMIT = 4096
_SETS_LIMIT = 512


class PolicySet:
    """A tuple of compiled policies and, per lower-cased action, the Deny and Allow statements
    (across all of them) whose Action/NotAction matches it."""

    __slots__ = ("policies", "_index", "alone")

    def __init__(self, policies: tuple[Policy, ...]) -> None:
        self.policies = policies
        self._index: dict[str, tuple[tuple, tuple]] = {}
        self.alone = None  # the decision Inputs when these are the only policies (built by the engine)

    def candidates(self, action_l: str) -> tuple[tuple, tuple]:
        found = self._index.get(action_l)
        if found is None:
            denies, allows = [], []
            for policy in self.policies:
                policy_denies, policy_allows = policy.candidates(action_l)
                denies += policy_denies
                allows += policy_allows
            found = (tuple(denies), tuple(allows))
            if len(self._index) >= _INDEX_LIMIT:
                self._index.clear()
            self._index[action_l] = found
        return found

    def denies(self, request) -> bool:
        found = self._index.get(request.action_l) or self.candidates(request.action_l)
        for statement in found[0]:
            check = statement.check
            if check is None or check(request):
                return True
        return False

    def allows(self, request) -> bool:
        found = self._index.get(request.action_l) or self.candidates(request.action_l)
        for statement in found[1]:
            check = statement.check
            if check is None or check(request):
                return True
        return False

    def __bool__(self) -> bool:
        return bool(self.policies)

    def __len__(self) -> int:
        return len(self.policies)

    def __iter__(self):
        return iter(self.policies)

    def __repr__(self) -> str:
        return f"PolicySet({list(self.policies)!r})"


EMPTY = PolicySet(())
_SETS: dict[tuple, PolicySet] = {}
_LAST: list = [object(), None]  # the last tuple asked for and its set (a tuple cannot change)


@lru_cache(maxsize=1024)
def _from_text(text: str) -> Policy:
    return Policy.from_json(text)


def as_policy(policy: Any) -> Policy:
    """A Policy from a Policy, a JSON string or a dict."""
    if type(policy) is Policy:
        return policy
    if isinstance(policy, str):
        return _from_text(policy)
    if isinstance(policy, Mapping):
        return Policy.from_dict(dict(policy))
    if isinstance(policy, Policy):
        return policy
    raise InvalidInput(f"a policy must be a Policy, a JSON string or a dict, not {type(policy).__name__}")


def policy_set(policies: Any) -> PolicySet:
    """The PolicySet for some policies; the same compiled policies give back the same set."""
    if policies is _LAST[0]:
        return _LAST[1]
    kind = type(policies)
    if kind is tuple or kind is list:
        if kind is list:
            policies = tuple(policies)
        # Policies hash and compare by identity, so this lookup costs little; a cached set keeps
        # its policies alive.
        try:
            found = _SETS.get(policies)
        except TypeError:  # dicts among them
            found = None
        if found is not None:
            if kind is tuple:
                _LAST[:] = (policies, found)
            return found
    elif kind is PolicySet:
        return policies
    elif isinstance(policies, (str, Mapping, Policy)):
        policies = (policies,)
    elif isinstance(policies, Sequence):
        policies = tuple(policies)
    else:
        raise InvalidInput(f"policies must be a list of policies, not {kind.__name__}")
    if not policies:
        return EMPTY
    compiled = tuple(as_policy(p) for p in policies)
    found = _SETS.get(compiled)
    if found is None:
        if len(_SETS) >= _SETS_LIMIT:
            _SETS.clear()
        found = _SETS[compiled] = PolicySet(compiled)
    return found


def levels(value: Any) -> tuple[PolicySet, ...]:
    """Organization levels, root first: each level the policies attached there."""
    if type(value) in (tuple, list) and not value:
        return ()
    if isinstance(value, (str, Mapping, Policy)) or not isinstance(value, Sequence):
        raise InvalidInput("scps and rcps must list levels from the root down, each a list of policies")
    return tuple(policy_set(level) for level in value)
