"""A lab account in a server process of its own: any AWS client reaches it over HTTP on loopback.

``python -m labkit.host.server --scenario acme --port 0`` boots a :class:`~labkit.host.account.LabAccount`,
serves it on 127.0.0.1 and prints one line of JSON when it is ready (``{"url": ..., "pid": ...}``,
or ``{"error": ...}`` if it cannot start). It serves until its standard input closes, so it ends
with the process that started it, however that ends. Besides the AWS APIs it answers labkit's
own control API under ``/_labkit/`` (reset, the lab clock, the trail): only to a caller holding a
token given in the environment (``LABKIT_OWNER_TOKEN`` may do everything, ``LABKIT_KERNEL_TOKEN``
everything but reset).
"""

from __future__ import annotations

import argparse
import errno
import hmac
import json
import os
import sys
import threading
from datetime import timedelta
from typing import Any

from labkit.host.account import LabAccount
from labkit.wire import HttpResponse

__all__ = ["ServerApp", "serve", "main", "CONTROL_PREFIX", "TOKEN_HEADER"]

CONTROL_PREFIX = "/_labkit/"
TOKEN_HEADER = "x-labkit-token"
_CLOCK_UNITS = ("weeks", "days", "hours", "minutes", "seconds")


def _json(status: int, body: Any) -> HttpResponse:
    return HttpResponse(status, [("Content-Type", "application/json")], json.dumps(body).encode())


class ServerApp:
    """The WSGI application of a lab server: the account's AWS APIs, and labkit's control API."""

    def __init__(self, account: LabAccount, *, owner_token: str | None, kernel_token: str | None = None) -> None:
        self.account = account
        self._tokens = {t: role for t, role in ((owner_token, "owner"), (kernel_token, "kernel")) if t}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        from http import HTTPStatus

        from labkit.wire import HttpRequest

        request = HttpRequest.from_environ(environ)
        if request.path.startswith(CONTROL_PREFIX):
            response = self.control(request.method, request.path[len(CONTROL_PREFIX):], request.header(TOKEN_HEADER), request.body)
        else:
            response = self.account.handle(request)
        reason = HTTPStatus(response.status).phrase if response.status in HTTPStatus._value2member_map_ else "Unknown"
        start_response(f"{response.status} {reason}", list(response.headers))
        return [response.body]

    def _role(self, token: str | None) -> str | None:
        if not token:
            return None
        for known, role in self._tokens.items():
            if hmac.compare_digest(known, token):
                return role
        return None

    def control(self, method: str, op: str, token: str | None, body: bytes) -> HttpResponse:
        """One control request: ``status`` for anyone; the rest for a token holder."""
        account = self.account
        if op == "status":
            return _json(200, {"scenario": account.scenario.name, "pid": os.getpid(), "open": account.open})
        role = self._role(token)
        if role is None:
            return _json(403, {"error": "labkit's control API needs the lab's token"})
        try:
            args = json.loads(body or b"{}")
        except ValueError:
            return _json(400, {"error": "the control request is not JSON"})
        if not isinstance(args, dict):
            return _json(400, {"error": "the control request must be a JSON object"})
        if op == "reset":
            if role != "owner":
                return _json(403, {"error": "this lab account belongs to a graded run: it cannot be reset from here"})
            account.reset()
            return _json(200, {})
        if op == "clock":
            return self._clock(args)
        if op == "trail":
            from labkit.trail import EventFacts

            with account._lock:
                events = [EventFacts.of(e).to_json() for e in account.trail.newest_first()]
            return _json(200, {"events": events, "started": account.trail.started.isoformat()})
        return _json(404, {"error": f"labkit's control API has no operation {op!r}"})

    def _clock(self, args: dict[str, Any]) -> HttpResponse:
        from labkit.errors import InvalidInput

        clock = self.account.clock
        advance = args.get("advance")
        try:
            if isinstance(advance, dict):
                steps = {unit: float(advance.get(unit, 0)) for unit in _CLOCK_UNITS}
                clock.advance(**steps)
            elif args.get("reset"):
                clock.reset()
        except (InvalidInput, TypeError, ValueError) as err:
            return _json(400, {"error": str(err)})
        return _json(200, {"now": clock.now().isoformat(), "offset": clock.offset / timedelta(seconds=1)})


def serve(app: Any, *, port: int = 0, listener: Any = None) -> Any:
    """A threaded HTTP server for ``app`` on 127.0.0.1 (or on an already open listening socket), started."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    import socket

    owned = listener is None
    if listener is None:  # bound here: a port in use is an OSError (werkzeug would exit the process)
        listener = socket.create_server(("127.0.0.1", port), backlog=128)
    server = make_server("127.0.0.1", listener.getsockname()[1], app, threaded=True, request_handler=MotoRequestHandler,
                         fd=listener.fileno())
    if owned:
        listener.close()  # the server holds its own copy of the socket
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.5}, daemon=True).start()
    return server


def _scenario(source: str) -> Any:
    """A scenario by name or file; a ``.pickle`` file is one a Lab in this machine's kernel wrote for us."""
    from labkit.scenario import load_scenario

    if source.endswith(".pickle"):
        import pickle

        with open(source, "rb") as handle:
            return pickle.load(handle)  # noqa: S301 - written by labkit.lab for this server
    return load_scenario(source)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labkit.host.server", description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="acme", help="built-in scenario name or scenario file")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    args = parser.parse_args(argv)
    out = sys.stdout
    sys.stdout = sys.stderr  # stray prints must not corrupt the ready line
    owner = os.environ.pop("LABKIT_OWNER_TOKEN", None)
    kernel = os.environ.pop("LABKIT_KERNEL_TOKEN", None)
    import logging

    import labkit  # noqa: F401  (the network guard)
    from labkit.errors import LabkitError
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    try:
        account = LabAccount(_scenario(args.scenario)).start()
        server = serve(ServerApp(account, owner_token=owner, kernel_token=kernel), port=args.port)
    except OSError as err:
        problem = (f"port {args.port} on 127.0.0.1 is already in use" if err.errno == errno.EADDRINUSE
                   else f"{type(err).__name__}: {err}")
        out.write(json.dumps({"error": problem}) + "\n")
        out.flush()
        return 1
    except LabkitError as err:
        out.write(json.dumps({"error": str(err)}) + "\n")
        out.flush()
        return 1
    host, port = server.server_address[:2]
    out.write(json.dumps({"url": f"http://{host}:{port}", "pid": os.getpid()}) + "\n")
    out.flush()
    try:
        sys.stdin.buffer.read()  # serve until the owner closes our stdin (or dies)
    except KeyboardInterrupt:
        pass
    server.shutdown()
    server.server_close()
    account.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
