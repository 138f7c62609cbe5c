"""The kernel's side of a lab account that lives in a lab server: start it, reach it, notice its death.

:class:`ServerAccount` offers what the in-kernel :class:`~labkit.host.account.LabAccount` offers
a Lab (``endpoint_url``, ``clock``, ``trail``, ``reset()``, ``close()``), over labkit's control API;
AWS API calls go to ``endpoint_url`` like to any AWS endpoint.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any

from labkit.errors import LabStateError, ServerLost

__all__ = ["ServerAccount", "RemoteClock", "RemoteTrail", "START_TIMEOUT"]

START_TIMEOUT = 60.0  # seconds a lab server may take to say it is ready
_RESTART = "Start the lab again: `lab = open_lab()` (a new lab starts from the freshly seeded company)."


class ServerAccount:
    """A lab account in a lab server: one this kernel started (``start``), or one it was pointed at (``attach``)."""

    def __init__(self, url: str, *, token: str | None, process: subprocess.Popen[bytes] | None = None, log: Any = None) -> None:
        self.endpoint_url = url
        self._token = token
        self._process = process
        self._log = log
        self.clock = RemoteClock(self)
        self.trail = RemoteTrail(self)

    @classmethod
    def start(cls, scenario: str, *, port: int = 0, timeout: float = START_TIMEOUT) -> ServerAccount:
        """Start a lab server for ``scenario`` (a name or a file) in a child process; wait until it serves."""
        from labkit.grading.servers import server_environment

        token = secrets.token_urlsafe(24)
        log = tempfile.TemporaryFile()
        env = {**server_environment(), "LABKIT_OWNER_TOKEN": token}
        process = subprocess.Popen(
            [sys.executable, "-m", "labkit.host.server", "--scenario", scenario, "--port", str(port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env, start_new_session=True,
        )
        box: list[Any] = []
        reader = threading.Thread(target=_read_hello, args=(process, box), daemon=True)
        reader.start()
        reader.join(timeout)
        hello = box[0] if box else None
        if not isinstance(hello, dict) or "url" not in hello:
            problem = hello.get("error") if isinstance(hello, dict) else None
            if problem is None:
                problem = (f"it did not come up within {timeout:.0f} s" if process.poll() is None
                           else f"it stopped (exit code {process.returncode}). {_last_words(log)}")
            _end(process)
            log.close()
            raise LabStateError(f"The lab server could not start: {problem}.")
        return cls(hello["url"], token=token, process=process, log=log)

    @classmethod
    def attach(cls, url: str, *, token: str | None) -> ServerAccount:
        """A lab server someone else owns (a grader): reachable, never stopped from here."""
        return cls(url, token=token)

    # -- health -----------------------------------------------------------------------------------

    def alive(self) -> bool:
        return self._process is None or self._process.poll() is None

    def lost(self) -> ServerLost:
        """The error for a call that found the server gone."""
        if self._process is not None and self._process.poll() is not None:
            return ServerLost(f"The lab server stopped (exit code {self._process.returncode}); "
                              f"this lab's account went with it. {_RESTART}")
        return ServerLost(f"The lab server at {self.endpoint_url} is not answering. {_RESTART}")

    # -- control API ---------------------------------------------------------------------------

    def control(self, op: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        from labkit.host.server import CONTROL_PREFIX, TOKEN_HEADER

        request = urllib.request.Request(
            self.endpoint_url + CONTROL_PREFIX + op, data=json.dumps(args or {}).encode(), method="POST",
            headers={"Content-Type": "application/json", **({TOKEN_HEADER: self._token} if self._token else {})},
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy
        try:
            with opener.open(request, timeout=60) as reply:
                return json.loads(reply.read() or b"{}")
        except urllib.error.HTTPError as err:
            try:
                problem = json.loads(err.read()).get("error", err.reason)
            except ValueError:
                problem = err.reason
            raise LabStateError(f"The lab server refused: {problem}.") from None
        except (urllib.error.URLError, OSError):
            raise self.lost() from None

    def reset(self) -> None:
        self.control("reset")

    def close(self) -> None:
        if self._process is not None:
            _end(self._process)
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None


class RemoteClock:
    """The lab clock of an account in a lab server (labkit.clock.Clock's reading and moving)."""

    def __init__(self, account: ServerAccount) -> None:
        self._account = account

    def _state(self, args: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._account.control("clock", args)

    @property
    def offset(self) -> timedelta:
        return timedelta(seconds=self._state()["offset"])

    def now(self) -> datetime:
        return datetime.fromisoformat(self._state()["now"])

    def advance(self, *, weeks: float = 0, days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0) -> datetime:
        from labkit.errors import InvalidInput

        step = {"weeks": weeks, "days": days, "hours": hours, "minutes": minutes, "seconds": seconds}
        try:
            return datetime.fromisoformat(self._state({"advance": step})["now"])
        except LabStateError as err:
            raise InvalidInput(str(err).removeprefix("The lab server refused: ")) from None

    def reset(self) -> None:
        self._state({"reset": True})

    def __repr__(self) -> str:
        return f"<Clock {self.now():%Y-%m-%d %H:%M:%S} UTC (in the lab server)>"


class RemoteTrail:
    """The trail of an account in a lab server: its events as plain facts (labkit.trail.EventFacts)."""

    def __init__(self, account: ServerAccount) -> None:
        self._account = account

    def newest_first(self) -> list[Any]:
        from labkit.trail import EventFacts

        return [EventFacts.from_json(e) for e in self._account.control("trail")["events"]]

    def events(self, **filters: Any) -> list[Any]:
        from labkit.trail import select

        return select(self.newest_first(), **filters)

    def __iter__(self) -> Any:
        return iter(list(reversed(self.newest_first())))

    def __len__(self) -> int:
        return len(self.newest_first())

    def _repr_html_(self, limit: int = 20) -> str:
        from labkit.trail import trail_html

        events = self.newest_first()
        return trail_html(events[:limit], len(events))


def _read_hello(process: subprocess.Popen[bytes], box: list[Any]) -> None:
    assert process.stdout is not None
    try:
        box.append(json.loads(process.stdout.readline() or b"null"))
    except ValueError:
        box.append(None)


def _last_words(log: Any) -> str:
    log.seek(0)
    tail = log.read().decode("utf-8", "replace").strip().splitlines()[-3:]
    return f"Its last words: {' | '.join(tail)}" if tail else ""


def _end(process: subprocess.Popen[bytes]) -> None:
    """Stop a lab server and everything it started (its own process group)."""
    import signal

    for stream in (process.stdin,):
        try:
            if stream is not None:
                stream.close()  # a server serves until its stdin closes
        except OSError:
            pass
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except OSError:
        pass
    process.wait()
    if process.stdout is not None:
        process.stdout.close()
