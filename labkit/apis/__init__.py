"""AWS APIs that labkit answers itself, where moto has none or answers them wrongly.

A handler is registered for one (service, operation) pair, with botocore's names::

    @api("iam", "SimulateCustomPolicy")
    def simulate_custom_policy(call: ApiCall, lab: Lab) -> dict:
        ...                       # the response body, in the shape boto3 returns it

The lab's gate authorizes the call first (as AWS would: the caller needs the action), then
calls the handler instead of moto. A handler raises :class:`ApiError` to answer with an AWS
error. It sees the parameters as the caller passed them, and the lab, whose ``account`` view,
admin clients and scenario it may use; it works the same when the account lives in a moto
server, because it reads the account only through those.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

from labkit.errors import ApiError

__all__ = ["ApiError", "api", "handler_for"]

Handler = Callable[[Any, Any], dict[str, Any]]
_HANDLERS: dict[tuple[str, str], Handler] = {}
_loaded = False


def api(service: str, operation: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as labkit's answer to ``service``'s ``operation``."""

    def register(func: Handler) -> Handler:
        key = (service, operation)
        if key in _HANDLERS:
            raise ValueError(f"{service}:{operation} has two handlers")
        _HANDLERS[key] = func
        return func

    return register


def _load() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{module.name}")


def handler_for(service: str, operation: str) -> Handler | None:
    """The handler labkit has for this operation, if any."""
    _load()
    return _HANDLERS.get((service, operation))
