"""The grader's side of graded lab servers: start the warm process, spawn a server, get a judgment.

Each notebook of a graded run gets a fresh lab account in a server process the grader owns
(labkit.grading.labserver). The grader talks to that process only over a socket pair it made
itself, so a verdict can come from nowhere else; the learner's kernel reaches the server only
through AWS API calls on its loopback port, like on real AWS.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
from typing import Any

from labkit.errors import LabkitError, ServerLost

__all__ = ["LabServers", "Server", "ServerLost", "server_environment"]


def server_environment() -> dict[str, str]:
    """This process's environment without anything that points AWS or labkit elsewhere."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LABKIT_", "MOTO_"))}


class Server:
    """One fresh lab account, served on ``url`` until :meth:`judge` closes it."""

    def __init__(self, url: str, channel: Any, process: subprocess.Popen[bytes] | None = None, *, token: str) -> None:
        self.url = url
        self.token = token  # the learner's kernel's token for labkit's control API (clock, trail)
        self._channel = channel  # a socket (forked server) or None (process with stdin/stdout)
        self._process = process
        self._pid: int | None = process.pid if process is not None else None
        self._files: tuple[Any, Any] | None = None

    def _lines(self, timeout: float) -> tuple[Any, Any]:
        if self._files is None:
            if self._channel is not None:
                self._files = (self._channel.makefile("rb"), self._channel.makefile("wb"))
            else:
                assert self._process is not None and self._process.stdout is not None and self._process.stdin is not None
                self._files = (self._process.stdout, self._process.stdin)
        if self._channel is not None:
            self._channel.settimeout(timeout)
        return self._files

    def pid(self, *, timeout: float = 120) -> int:
        """The server's process id (waits for the forked server to say hello)."""
        if self._pid is None:
            try:
                rfile, _ = self._lines(timeout)
                hello = json.loads(rfile.readline() or b"null")
            except (OSError, ValueError):
                hello = None
            if not isinstance(hello, dict) or not isinstance(hello.get("pid"), int):
                raise ServerLost("the lab server stopped before the run ended")
            self._pid = hello["pid"]
        return self._pid

    def judge(self, check_ids: list[str], answers: dict[str, Any], *, timeout: float = 120) -> dict[str, tuple[bool, str]]:
        """Close the account to the learner and run ``check_ids`` on it: id -> (passed, message).

        ``answers`` maps check ids to answers already encoded by labkit.grading.answers.encode.
        """
        self.pid(timeout=timeout)
        try:
            rfile, wfile = self._lines(timeout)
            wfile.write(json.dumps({"op": "judge", "checks": check_ids, "answers": answers}).encode() + b"\n")
            wfile.flush()
            reply = json.loads(rfile.readline() or b"null")
        except (OSError, ValueError) as err:
            raise ServerLost(f"the lab server stopped answering ({type(err).__name__})") from None
        if not isinstance(reply, dict) or "results" not in reply:
            problem = reply.get("error") if isinstance(reply, dict) else "it stopped before the run ended"
            raise ServerLost(f"the lab server could not judge the run: {problem}")
        verdicts = {}
        for item in reply["results"]:
            verdicts[str(item["check"])] = (bool(item["passed"]), str(item.get("message", "")))
        return verdicts

    def close(self) -> None:
        if self._channel is not None:
            for handle in self._files or ():
                try:
                    handle.close()
                except OSError:  # unsent bytes to a server that is gone
                    pass
            self._channel.close()
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            for stream in (self._process.stdin, self._process.stdout):
                if stream is not None:
                    stream.close()
        elif self._pid is not None:
            try:
                os.kill(self._pid, 9)
            except OSError:
                pass


class LabServers:
    """Fresh lab servers, forked from one warm process (Linux) or started one by one (elsewhere)."""

    def __init__(self, scenario: str = "acme", *, fork: bool | None = None) -> None:
        self.scenario = scenario
        self.fork = sys.platform.startswith("linux") if fork is None else fork
        self._control: socket.socket | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()
        self._lock = threading.Lock()

    def _command(self, *extra: str) -> list[str]:
        return [sys.executable, "-m", "labkit.grading.labserver", "--scenario", self.scenario, *extra]

    def start(self) -> LabServers:
        """Launch the warm process (it boots while the caller goes on)."""
        if self.fork and self._process is None:
            ours, theirs = socket.socketpair()
            self._process = subprocess.Popen(
                self._command("--fd", str(theirs.fileno())),
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self._log,
                env=server_environment(),
                start_new_session=True,
            )
            theirs.close()
            self._control = ours
        return self

    def _failure(self, what: str) -> LabkitError:
        self._log.seek(0)
        tail = self._log.read().decode("utf-8", "replace").strip().splitlines()[-5:]
        return LabkitError(f"{what}. Its last words: {' | '.join(tail) or '(none)'}")

    def alive(self) -> bool:
        """Whether the warm process is still there (always True without one)."""
        return self._process is None or self._process.poll() is None

    def failure(self) -> LabkitError:
        """The error to stop grading with when the warm process has died."""
        return self._failure("The lab server process stopped")

    def spawn(self) -> Server:
        """A fresh, seeded lab account on a new loopback port.

        With the warm process, this returns at once: the port is open (connections wait in its
        backlog) while the child that serves it is forked, so the kernel can start meanwhile.
        """
        if not self.fork:
            return self._spawn_process()
        self.start()
        if not self.alive():
            raise self.failure()
        listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        ours, theirs = socket.socketpair()
        token = secrets.token_urlsafe(24)
        try:
            with self._lock:
                assert self._control is not None
                socket.send_fds(self._control, [b"spawn " + token.encode()], [theirs.fileno(), listener.fileno()])
            url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        except OSError:
            ours.close()
            raise self.failure() from None
        finally:
            theirs.close()
            listener.close()
        return Server(url, ours, token=token)

    def _spawn_process(self) -> Server:
        token = secrets.token_urlsafe(24)
        process = subprocess.Popen(
            self._command("--stdio"), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
            env={**server_environment(), "LABKIT_KERNEL_TOKEN": token}, start_new_session=True,
        )
        assert process.stdout is not None
        try:
            hello = json.loads(process.stdout.readline() or b"null")
            url = hello["url"]
        except (ValueError, TypeError, KeyError):
            process.kill()
            process.wait()
            raise self._failure("A lab server could not start") from None
        return Server(url, None, process, token=token)

    def close(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._process is not None:
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        self._log.close()

    def __enter__(self) -> LabServers:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
