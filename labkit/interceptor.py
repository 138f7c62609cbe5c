"""botocore hooks: in a running Lab, every API call passes the lab's gate before moto serves it.

The hooks are registered with botocore's built-in handlers when labkit is imported, so every
botocore session made afterwards carries them; they do nothing while no Lab runs. Deciding at
``before-call`` sees the caller's credentials and the API parameters exactly as the caller gave
them, for every protocol, and works the same whether moto runs in this process or as a server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["ApiCall", "Gate", "install", "activate", "deactivate"]


@dataclass(slots=True)
class ApiCall:
    """One API call as its caller made it (``state`` is the gate's scratch space for it)."""

    service: str  # botocore's service name: "iam", "s3", "sts", ...
    operation: str  # the API operation: "ListUsers", "GetObject", ...
    params: dict[str, Any]  # the parameters as passed to the client method
    access_key: str | None  # None for unsigned calls
    region: str
    protocol: str  # "query", "rest-xml", "json", "rest-json", "ec2"
    source_ip: str = "198.51.100.10"  # aws:SourceIp: labkit.context.DEFAULT_SOURCE_IP unless a session set one
    state: dict[str, Any] = field(default_factory=dict)


class Gate(Protocol):
    """What a Lab plugs in: returns None to let moto serve the call, or a botocore response."""

    def handle(self, call: ApiCall) -> tuple[Any, dict[str, Any]] | None: ...

    def complete(self, call: ApiCall, http: Any, parsed: dict[str, Any]) -> None:
        """Called after moto served a call the gate let through."""


_gate: Gate | None = None
_installed = False


def activate(gate: Gate) -> None:
    global _gate
    _gate = gate


def deactivate() -> None:
    global _gate
    _gate = None


def _remember_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    if _gate is not None:
        context["labkit_params"] = dict(params)


def _before_call(model: Any, request_signer: Any, context: dict[str, Any], **_: Any) -> Any:
    gate = _gate
    if gate is None:
        return None
    credentials = getattr(request_signer, "_credentials", None)
    access_key = credentials.get_frozen_credentials().access_key if credentials is not None else None
    service_model = model.service_model
    call = ApiCall(
        service=service_model.service_name,
        operation=model.name,
        params=context.get("labkit_params", {}),
        access_key=access_key,
        region=getattr(request_signer, "_region_name", "") or "",
        protocol=service_model.resolved_protocol,
    )
    source_ip = context.get("labkit_source_ip")
    if source_ip:
        call.source_ip = source_ip
    response = gate.handle(call)
    if response is None:
        context["labkit_call"] = call
    return response


def _after_call(http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    call = context.pop("labkit_call", None)
    gate = _gate
    if call is not None and gate is not None:
        gate.complete(call, http_response, parsed)


def install() -> None:
    """Register the hooks with botocore's built-in handlers (idempotent)."""
    global _installed
    if _installed:
        return
    from botocore.handlers import BUILTIN_HANDLERS

    BUILTIN_HANDLERS.append(("before-parameter-build", _remember_params))
    BUILTIN_HANDLERS.append(("before-call", _before_call))
    BUILTIN_HANDLERS.append(("after-call", _after_call))
    _installed = True
