"""A lab account where it lives: moto's backends, labkit's own state, and the gate every request passes.

:class:`LabAccount` is one lab's whole account (every account of its scenario): moto's backends
in this process, the sessions STS issued, MFA devices, the lab clock, the trail and IAM's usage
data. Each request that reaches it, from any client, is decoded
(labkit.wire), its signature verified with the lab's secret keys, decided by the gate, and then
served by moto, from the account the gate routes it to, or answered by labkit itself. The kernel
transport (labkit.interceptor) and the lab server (labkit.host.server) both hand it requests;
nothing else touches moto's backends.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any
from urllib.parse import unquote

from labkit.calls import Answer, ApiCall
from labkit.context import DEFAULT_SOURCE_IP
from labkit.scenario import Scenario
from labkit.wire import HttpRequest, HttpResponse, WireError, error_response, ok_response, parse_error, parse_request, signature_of, verify

__all__ = ["LabAccount", "SOURCE_IP_HEADER"]

#: The address a lab session's calls appear to come from (aws:SourceIp), set by ``lab.session_as(source_ip=...)``.
SOURCE_IP_HEADER = "x-labkit-source-ip"
_MOTO_ACCOUNT_HEADER = "HTTP_X_MOTO_ACCOUNT_ID"
_ROUTED_PREFIXES = ("/moto-api", "/_moto", "/favicon.ico")

_active: LabAccount | None = None


class LabAccount:
    """Every account of one scenario, in this process, until :meth:`close` (a labkit.host.AccountHost)."""

    endpoint_url: str | None = None  # reached through the kernel transport, not over HTTP

    def __init__(self, scenario: Scenario) -> None:
        from labkit import mockaws
        from labkit.clock import Clock
        from labkit.gate import LabGate
        from labkit.identity import Directory
        from labkit.organization import OrganizationView
        from labkit.sessions import SessionStore
        from labkit.trail import Trail

        mockaws.install()
        self.scenario = scenario
        self.sessions = SessionStore()
        self.clock = Clock()
        self.trail = Trail(clock=self.clock)
        self.directory = Directory([a.account_id for a in scenario.all_accounts()], self.sessions)
        spec = scenario.organization
        self.organization = (OrganizationView(scenario.account_named(spec.management_account).account_id)
                             if spec is not None else None)
        self.gate = LabGate(self.directory, self)
        self.gate.listeners.append(self.trail.record)
        self._lock = threading.RLock()  # moto's backends serve one request at a time
        self._clients: dict[tuple[str, str, str], Any] = {}
        self.open = False

    @property
    def account_id(self) -> str:
        return self.scenario.account_id

    @property
    def region(self) -> str:
        return self.scenario.region

    # -- life cycle -------------------------------------------------------------------------------

    def start(self) -> LabAccount:
        """Seed the account and serve it; one account per process (moto's backends are global)."""
        global _active
        if _active is not None:
            from labkit.errors import LabStateError

            raise LabStateError("Another lab account already lives in this process; stop its lab first.")
        _active = self
        self.clock.install()
        self._reset_backends()
        self._seed()
        self.open = True
        return self

    def reset(self) -> None:
        """Back to the freshly seeded company: moto's state, sessions, clock, trail and usage data."""
        with self._lock:
            self._reset_backends()
            self.clock.reset()
            self.trail.clear()
            self.sessions.clear()
            self._seed()

    def close(self) -> None:
        global _active
        self.open = False
        with self._lock:
            self._reset_backends()
            self.sessions.clear()
            self.clock.uninstall()
            self._clients.clear()
        if _active is self:
            _active = None

    def alive(self) -> bool:
        return self.open

    def _reset_backends(self) -> None:
        from moto.core.base_backend import BackendDict

        BackendDict.reset()

    def _seed(self) -> None:
        from labkit.seed import seed

        seed(self.scenario)

    # -- administrator clients inside the account (labkit's own bookkeeping) ----------------------

    def client(self, service: str, *, account: str | None = None, region_name: str | None = None) -> Any:
        """An administrator's client of this account, served in this process without the gate or the trail."""
        from labkit import interceptor

        account_id = account or self.account_id
        key = (service, account_id, region_name or self.region)
        if key not in self._clients:
            self._clients[key] = interceptor.internal_client(service, account_id, region_name or self.region)
        return self._clients[key]

    # -- requests -----------------------------------------------------------------------------

    def handle(self, request: HttpRequest, *, internal: bool = False) -> HttpResponse:
        """Decide and serve one request; ``internal`` requests (the account's own clients) skip the gate."""
        request_id = str(uuid.uuid4())
        path = unquote(request.path).replace("\\", "/")
        if "/moto-api" in path or path.startswith(_ROUTED_PREFIXES):
            return HttpResponse(403, [("Content-Type", "text/plain")], b"labkit: moto's own API is not part of the lab")
        if not self.open and not internal:
            return HttpResponse(503, [("Content-Type", "text/plain")], b"labkit: this lab account is closed")
        try:
            parsed = parse_request(request)
        except WireError as err:  # answered as the service would, when the request says which it is
            if err.service and err.protocol:
                return error_response(err.service, err.protocol, status=err.status, code=err.code, message=err.message,
                                      request_id=request_id)
            return HttpResponse(err.status, [("Content-Type", "text/plain")], f"{err.code}: {err.message}".encode())
        signature = parsed.signature
        call = ApiCall(parsed.service, parsed.operation, parsed.params, signature.access_key if signature else None,
                       parsed.region, parsed.protocol, request.header(SOURCE_IP_HEADER) or DEFAULT_SOURCE_IP)
        with self._lock:
            if internal:
                return self._moto_serve(request, call, self.directory.admin_account(call.access_key) or self.account_id)
            checker = None
            if signature is not None:
                def checker(secret: str, token: str | None) -> str | None:
                    if token is not None and signature.session_token != token:
                        return "InvalidClientTokenId"
                    return None if verify(request, signature, secret) else "SignatureDoesNotMatch"
            answer = self.gate.handle(call, checker)
            if answer is not None:
                return self._answer(call, answer, request_id)
            response = self._moto_serve(request, call, call.state["route"])
            error: dict[str, Any] = {}
            if response.status >= 300:
                found = parse_error(call.service, call.protocol, response.status, dict(response.headers), response.body)
                if found is not None:
                    error = {"Code": found[0], "Message": found[1]}
            self.gate.complete(call, error)
            return response

    def _answer(self, call: ApiCall, answer: Answer, request_id: str) -> HttpResponse:
        if answer.code is not None:
            return error_response(call.service, call.protocol, status=answer.status, code=answer.code,
                                  message=answer.message or "", request_id=request_id)
        return ok_response(call.service, call.protocol, call.operation, answer.body or {}, request_id=request_id)

    def _moto_serve(self, request: HttpRequest, call: ApiCall, account_id: str) -> HttpResponse:
        """moto's answer, from ``account_id``'s backends, through moto's own in-process entry point."""
        from botocore.awsrequest import AWSPreparedRequest, HTTPHeaders
        from moto.core.models import botocore_stubber

        url, host = _aws_url(request, call)
        headers = HTTPHeaders()
        for name, value in request.headers.items():
            if name.lower() not in ("host", "transfer-encoding", "expect", "x-moto-account-id"):  # the body is here whole
                headers[name] = value
        headers["Host"] = host
        headers["x-moto-account-id"] = account_id  # moto serves from this account (moto.core.responses)
        if call.access_key is None and "Authorization" not in headers:
            # An anonymous request the gate allowed: moto's S3 would decide it again with its own
            # evaluator and ACLs (moto.s3.responses, unsigned requests); labkit's decision stands.
            headers["Authorization"] = "labkit-anonymous"
        prepared = AWSPreparedRequest(request.method, url, headers, request.body, stream_output=False)
        answer = botocore_stubber.process_request(prepared)
        if answer is None:
            return HttpResponse(404, [("Content-Type", "text/plain")], b"labkit: the lab's mock does not serve this request")
        status, moto_headers, body = answer
        if isinstance(body, str):
            body = body.encode("utf-8")
        return HttpResponse(int(status), [(str(k), str(v)) for k, v in (moto_headers or {}).items()], body or b"")


def active_account() -> LabAccount | None:
    """The lab account living in this process, if any."""
    return _active


def _aws_url(request: HttpRequest, call: ApiCall) -> tuple[str, str]:
    """The request's URL as AWS would have been sent it (moto routes by AWS's host names)."""
    host = request.header("host") or ""
    if not host.split(":", 1)[0].endswith(".amazonaws.com"):  # a lab server's loopback address
        from labkit.wire.models import service_model

        prefix = service_model(call.service).endpoint_prefix
        host = f"{prefix}.amazonaws.com" if call.service == "s3" else f"{prefix}.{call.region or 'us-east-1'}.amazonaws.com"
    query = f"?{request.query}" if request.query else ""
    return f"https://{host}{request.path}{query}", host
