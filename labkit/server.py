"""A lab account in a moto server process of its own, for runs whose account must stay out of reach.

A grader starts one per submission (``python -m labkit.server --scenario acme``), points the
learner's kernel at it (``LABKIT_SERVER=http://127.0.0.1:PORT``, which ``Lab()`` and
``open_lab()`` honour), and inspects the account afterwards through its own boto3 clients. The
learner's code reaches the account only through AWS API calls, like on real AWS: it cannot
rewrite the state that is graded, nor the grader's verdicts.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from labkit.scenario import Scenario, load_scenario

__all__ = ["LabServer", "main"]


class LabServer:
    """A seeded moto server on loopback, in this process (threads), until :meth:`stop`."""

    def __init__(self, scenario: str | Path | Scenario = "acme", *, port: int = 0) -> None:
        self.scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self._port = port
        self._server: Any = None
        self.url = ""

    def start(self) -> LabServer:
        from moto.moto_server.threaded_moto_server import ThreadedMotoServer

        from labkit import mockaws
        from labkit.seed import seed

        mockaws.install()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
        os.environ.setdefault("AWS_DEFAULT_REGION", self.scenario.region)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self._port, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        seed(self.scenario)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> LabServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labkit.server", description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="acme", help="built-in scenario name or scenario file")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    args = parser.parse_args(argv)
    server = LabServer(args.scenario, port=args.port).start()
    print(server.url, flush=True)
    try:
        sys.stdin.read()  # serve until the owner closes our stdin (or kills us)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
