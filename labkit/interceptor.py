"""The kernel transport: botocore requests for AWS, sent to the lab account living in this process.

Registered with botocore's built-in handlers when labkit is imported, so every botocore session
made afterwards carries it; it does nothing while no account lives in this process. At
``before-send`` a request is complete (serialised and signed, exactly what would go on the
wire), so the account decides it exactly as it decides a request that reached a lab server:
one path for every client. Requests for other hosts fall through to labkit.safety.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

__all__ = ["install", "internal_client", "source_ip_handler"]

_AWS_HOST_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")
_installed = False


class _Raw(io.BytesIO):
    """A response body botocore can stream."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        contents = self.read()
        while contents:
            yield contents
            contents = self.read()


def _body(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    data = body.read()
    if hasattr(body, "seek"):
        try:
            body.seek(0)
        except (OSError, ValueError):
            pass
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def _send(request: Any, **_: Any) -> Any:
    from labkit.host.account import active_account

    account = active_account()
    if account is None:
        return None
    parts = urlsplit(request.url)
    host = parts.hostname or ""
    if not host.endswith(_AWS_HOST_SUFFIXES):
        return None
    from botocore.awsrequest import AWSResponse

    from labkit.wire import HttpRequest

    headers = {k: v.decode("utf-8") if isinstance(v, bytes) else str(v) for k, v in request.headers.items()}
    if not any(k.lower() == "host" for k in headers):
        headers["Host"] = parts.netloc
    wire = HttpRequest(request.method, parts.path or "/", parts.query, headers, _body(request.body))
    internal = bool(getattr(request, "context", {}).get("labkit_internal"))
    response = account.handle(wire, internal=internal)
    return AWSResponse(request.url, response.status, dict(response.headers), _Raw(response.body))


def _mark_internal(request: Any, **_: Any) -> None:
    request.context["labkit_internal"] = True


def internal_client(service: str, account_id: str, region: str) -> Any:
    """A client of the account in this process, as its administrator, that skips the gate and the trail."""
    import botocore.session
    from botocore.config import Config

    from labkit.identity import admin_credentials

    key, secret = admin_credentials(account_id)
    core = botocore.session.Session()
    core.register("before-sign", _mark_internal)
    config = Config(ignore_configured_endpoint_urls=True, retries={"max_attempts": 1})
    return core.create_client(service, region_name=region, aws_access_key_id=key, aws_secret_access_key=secret, config=config)


def source_ip_handler(source_ip: str) -> Any:
    """A ``before-sign`` handler that says which address a session's calls come from (aws:SourceIp)."""
    from labkit.host.account import SOURCE_IP_HEADER

    def stamp(request: Any, **_: Any) -> None:
        request.headers[SOURCE_IP_HEADER] = source_ip

    return stamp


def install() -> None:
    """Register the transport with botocore's built-in handlers (idempotent)."""
    global _installed
    if _installed:
        return
    from botocore.handlers import BUILTIN_HANDLERS

    BUILTIN_HANDLERS.append(("before-send", _send))
    _installed = True
