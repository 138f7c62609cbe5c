"""What the mapping produces: one authorization AWS makes for a call, and the error for calls it cannot map."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from labkit.errors import Unmapped
from labkit.policy.engine import FREE_ACTIONS  # answered for any authenticated caller, no policy consulted

__all__ = ["Target", "Unmapped", "FREE_ACTIONS", "EMPTY_CONTEXT"]


EMPTY_CONTEXT: Mapping[str, str | tuple[str, ...]] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Target:
    """One authorization AWS makes for a call: ``action`` on ``resource`` (an ARN, or ``"*"`` when
    the action supports no resource-level permissions), with the request-context entries the call
    adds (``s3:prefix``, ``aws:RequestTag/team``...), and the account that owns the resource."""

    action: str
    resource: str
    context: Mapping[str, str | tuple[str, ...]] = field(default_factory=lambda: EMPTY_CONTEXT, hash=False)
    resource_account: str = ""
