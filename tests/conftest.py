"""Shared fixtures: a running lab per test, and a loopback trap that counts connections."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Notebook cells collected by nbval run whole notebooks: mark them slow.
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Tests marked both_modes get the `lab` fixture twice: the account in the kernel, and in a
    # real lab server process (labkit.host.server), reached over HTTP like any AWS client would.
    definition = metafunc.definition
    if "lab" in metafunc.fixturenames and definition.get_closest_marker("both_modes") and not definition.get_closest_marker("kernel_only"):
        metafunc.parametrize("lab_mode", ["kernel", "server"])


@pytest.fixture
def lab_mode() -> str:
    return "kernel"


@pytest.fixture(scope="session")
def lab_server() -> Iterator[object]:
    """One lab server process per test worker; each server-mode test resets it first."""
    from labkit.host.remote import ServerAccount

    server = ServerAccount.start("acme")
    yield server
    server.close()


@pytest.fixture
def lab(request: pytest.FixtureRequest, lab_mode: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    from labkit import Lab

    if lab_mode == "kernel":
        with Lab() as running:
            yield running
        return
    server = request.getfixturevalue("lab_server")
    monkeypatch.setenv("LABKIT_SERVER_TOKEN", server._token)
    with Lab(server=server.endpoint_url) as running:
        running.reset()
        yield running


class Trap:
    """A TCP listener on loopback that records every connection made to it."""

    def __init__(self) -> None:
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.server.close()


@pytest.fixture
def trap() -> Iterator[Trap]:
    t = Trap()
    yield t
    t.close()
