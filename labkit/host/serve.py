"""``labkit serve``: a lab account for a terminal, reached with the AWS CLI or any other AWS client."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any, TextIO

__all__ = ["serve_lab"]


def _exports(url: str, key: str, secret: str, region: str) -> str:
    return (f"export AWS_ENDPOINT_URL={url} AWS_ACCESS_KEY_ID={key} AWS_SECRET_ACCESS_KEY={secret} "
            f"AWS_DEFAULT_REGION={region} AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null")


def serve_lab(scenario: str = "acme", *, port: int = 0, user: str | None = None, out: TextIO = sys.stdout,
              ready: threading.Event | None = None, stop: threading.Event | None = None) -> int:
    """Serve a seeded lab account on 127.0.0.1 until Ctrl-C (or ``stop``); print how to reach it."""
    import errno

    import labkit  # noqa: F401  (the network guard)
    from labkit.errors import LabStateError, NoSuchEntity
    from labkit.host.account import LabAccount
    from labkit.host.server import ServerApp, serve
    from labkit.identity import admin_credentials
    from labkit.scenario import load_scenario

    account = LabAccount(load_scenario(scenario)).start()
    try:
        try:
            server = serve(ServerApp(account, owner_token=None), port=port)
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise LabStateError(f"port {port} on 127.0.0.1 is already in use: choose another with --port, or leave it out") from None
            raise
        host, bound = server.server_address[:2]
        url = f"http://{host}:{bound}"
        key, secret = admin_credentials(account.account_id)
        s = account.scenario
        lines = [
            f"labkit: the {s.company} lab (account {s.account_id}, {s.region}) answers AWS API calls at {url}",
            "",
            "As the account's administrator, in another terminal:",
            f"  {_exports(url, key, secret, s.region)}",
            "  aws iam list-users",
            f"or without exports: aws --endpoint-url {url} iam list-users (with the keys above in your environment)",
        ]
        if user is not None:
            iam = account.client("iam")
            try:
                created = iam.create_access_key(UserName=user)["AccessKey"]
            except iam.exceptions.NoSuchEntityException:
                raise NoSuchEntity(f"There is no IAM user named {user!r} in the lab account.") from None
            lines += ["", f"As {user}, with an access key made for them now (their calls are decided by their own policies):",
                      f"  {_exports(url, created['AccessKeyId'], created['SecretAccessKey'], s.region)}",
                      "  aws sts get-caller-identity"]
        else:
            lines += ["", "As a lab user, with keys of their own: run `aws iam create-access-key --user-name alice` as the",
                      "administrator, then export the AccessKeyId and SecretAccessKey it prints instead (or: labkit serve --user alice)."]
        lines += ["", "Everything stays on this machine. Ctrl-C stops the lab (its state is not kept)."]
        print("\n".join(lines), file=out, flush=True)
        done = stop or threading.Event()
        previous = signal.signal(signal.SIGTERM, lambda *_: done.set()) if threading.current_thread() is threading.main_thread() else None
        if ready is not None:
            ready.set()
        try:
            while not done.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
        server.shutdown()
        server.server_close()
        print("labkit: lab stopped.", file=out, flush=True)
        return 0
    finally:
        account.close()


