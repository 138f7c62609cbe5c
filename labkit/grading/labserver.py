"""Lab servers for graded runs: a warm process forks one fresh, seeded server per notebook.

``python -m labkit.grading.labserver --fd N`` boots once (a seeded labkit.host.account.LabAccount,
its request handling warmed) and then, for every request the grader sends over the socket
``N`` (a command channel and a listening socket, passed as file descriptors), forks a child.
The child serves the lab account (labkit.host.server.ServerApp: enforced where it lives) on that
listening socket to the learner's kernel; when the grader asks it to judge, it closes the account
to further requests and runs the checks on it in-process, then answers over its channel and exits. Nothing but the grader holds that channel,
so nothing the notebook does can speak for the server. ``--stdio`` runs one server without
forking (for systems without ``fork``), its channel being stdin and stdout.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import signal
import socket
import sys
from typing import Any

__all__ = ["main"]

_PREWARM = (
    # (method, path, service, body): one read-only request per service a lesson uses.
    ("POST", "/", "iam", "Action=ListUsers&Version=2010-05-08"),
    ("GET", "/", "s3", ""),
    ("POST", "/", "sts", "Action=GetCallerIdentity&Version=2011-06-15"),
)


class _Warm:
    """Everything a child inherits ready to use: the seeded account, its server app, warm code paths."""

    def __init__(self, scenario_name: str) -> None:
        from labkit.checks import all_checks
        from labkit.host.account import LabAccount
        from labkit.scenario import load_scenario

        self.scenario = load_scenario(scenario_name)
        os.environ.update(AWS_DEFAULT_REGION=self.scenario.region, AWS_EC2_METADATA_DISABLED="true")
        self.account = LabAccount(self.scenario).start()
        all_checks()  # import every check module now, not in each child
        # Judge the untouched account once: every check's code paths and botocore's operation
        # models are then warm in every child, which only pays for what its run changed.
        _judge(self, {"checks": [c.id for c in all_checks()], "answers": {}})
        from labkit.wire import HttpRequest

        for method, path, service, body in _PREWARM:
            # Unsigned-looking requests: they warm the decoding and moto's routing, then are refused.
            headers = {"Host": f"{service}.amazonaws.com", "Content-Type": "application/x-www-form-urlencoded"}
            self.account.handle(HttpRequest(method, path, "", headers, body.encode()))
        self.account.trail.clear()


class _CachedClient:
    """Read calls (get_*, list_*) answered once per judging: the account no longer changes."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._cache: dict[str, Any] = {}
        self.exceptions = client.exceptions

    def _call(self, name: str, **kwargs: Any) -> Any:
        key = name + json.dumps(kwargs, sort_keys=True, default=str)
        if key not in self._cache:
            self._cache[key] = getattr(self._client, name)(**kwargs)
        return copy.deepcopy(self._cache[key])

    def get_paginator(self, name: str) -> Any:
        outer = self

        class _Pages(list):  # type: ignore[type-arg]
            def __init__(self, pages: list[Any], kwargs: dict[str, Any]) -> None:
                super().__init__(pages)
                self._kwargs = kwargs

            def __getattr__(self, attr: str) -> Any:  # build_full_result, search...: ask moto
                return getattr(outer._client.get_paginator(name).paginate(**self._kwargs), attr)

        class _Paginator:
            def paginate(self, **kwargs: Any) -> list[Any]:
                key = "paginate:" + name + json.dumps(kwargs, sort_keys=True, default=str)
                if key not in outer._cache:
                    outer._cache[key] = list(outer._client.get_paginator(name).paginate(**kwargs))
                return _Pages(copy.deepcopy(outer._cache[key]), kwargs)

        return _Paginator()

    def __getattr__(self, name: str) -> Any:
        if name.startswith(("get_", "list_")) and name != "get_waiter":
            return lambda **kwargs: self._call(name, **kwargs)
        return getattr(self._client, name)


class _Context:
    def __init__(self, warm: _Warm, clients: dict[str, Any], answer: Any) -> None:
        self._warm, self._clients, self.answer = warm, clients, answer

    def client(self, service: str) -> Any:
        if service not in self._clients:
            raw = self._warm.account.client(service)
            self._clients[service] = _CachedClient(raw) if service == "iam" else raw
        return self._clients[service]


def _judge(warm: _Warm, command: dict[str, Any]) -> list[dict[str, Any]]:
    from labkit.checks import evaluate
    from labkit.grading.answers import decode

    clients: dict[str, Any] = {}
    answers = command.get("answers", {})
    results = []
    for check_id in command.get("checks", []):
        try:
            answer = decode(answers[check_id]) if check_id in answers else None
        except (ValueError, TypeError):
            answer = None
        result = evaluate(check_id, _Context(warm, clients, answer))
        results.append({"check": check_id, "passed": result.passed, "message": result.message})
    return results


def _serve(warm: _Warm, rfile: Any, wfile: Any, listener: socket.socket | None, kernel_token: str | None) -> None:
    """Serve the lab account until the grader asks for a judgment (or goes away)."""
    from labkit.host.server import ServerApp, serve

    server = serve(ServerApp(warm.account, owner_token=None, kernel_token=kernel_token), listener=listener)
    host, port = server.server_address[:2]
    wfile.write(json.dumps({"pid": os.getpid(), "url": f"http://{host}:{port}"}).encode() + b"\n")
    wfile.flush()
    line = rfile.readline()
    if not line:
        return
    warm.account.open = False  # no request of the learner's after this point
    try:
        reply: Any = {"results": _judge(warm, json.loads(line))}
    except Exception as err:  # report, never hang the grader
        reply = {"error": f"{type(err).__name__}: {err}"}
    wfile.write(json.dumps(reply).encode() + b"\n")
    wfile.flush()


def _zygote(warm: _Warm, control: socket.socket) -> None:
    import gc

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the system
    gc.freeze()  # keep the warm heap shared with the children (copy-on-write)
    while True:
        message, fds, _, _ = socket.recv_fds(control, 256, 2)
        if not message:
            return
        if len(fds) != 2:
            for fd in fds:
                os.close(fd)
            continue
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                control.close()
                channel = socket.socket(fileno=fds[0])
                listener = socket.socket(fileno=fds[1])
                token = message.partition(b" ")[2].decode() or None  # b"spawn TOKEN": the kernel's control token
                _serve(warm, channel.makefile("rb"), channel.makefile("wb"), listener, token)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        for fd in fds:
            os.close(fd)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labkit.grading.labserver", description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="acme")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--fd", type=int, help="the grader's control socket: fork a server per request")
    mode.add_argument("--stdio", action="store_true", help="serve one lab account; channel on stdin/stdout")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the grader decides when we stop
    channel_out = sys.stdout.buffer
    sys.stdout = sys.stderr  # stray prints must not corrupt the channel
    import labkit  # noqa: F401  (installs the network guard)

    warm = _Warm(args.scenario)
    if args.stdio:
        _serve(warm, sys.stdin.buffer, channel_out, None, os.environ.pop("LABKIT_KERNEL_TOKEN", None))
        return 0
    _zygote(warm, socket.socket(fileno=args.fd))
    return 0


if __name__ == "__main__":
    sys.exit(main())
