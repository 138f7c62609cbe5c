"""The Lab: a mocked AWS account seeded with a company, safe to break and reset, in the kernel or a lab server."""

from __future__ import annotations

import html
import os
from contextlib import ExitStack
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from labkit import safety
from labkit.errors import InvalidInput, LabkitError, LabStateError, NoSuchEntity
from labkit.identity import admin_credentials
from labkit.scenario import Scenario, load_scenario

Mode = Literal["kernel", "server"]

__all__ = ["Lab", "current_lab", "open_lab"]

_current: Lab | None = None


@lru_cache(maxsize=1)
def _loader() -> Any:
    # One botocore data loader for every session labkit makes: sessions then share the parsed
    # service models instead of reading them from disk again.
    from botocore.loaders import create_loader

    return create_loader()


def _session(
    access_key: str, secret_key: str, region: str, token: str | None = None, *, source_ip: str | None = None
) -> Any:
    import boto3
    import botocore.session

    core = botocore.session.Session()
    core.register_component("data_loader", _loader())
    if source_ip is not None:
        from labkit.interceptor import source_ip_handler

        core.register("before-sign", source_ip_handler(source_ip))
    return boto3.Session(
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        aws_session_token=token,
        region_name=region,
        botocore_session=core,
    )


def current_lab() -> Lab | None:
    """The Lab running in this process, if any."""
    return _current


def open_lab(scenario: str | Path | Scenario = "acme", *, mode: Mode = "kernel") -> Lab:
    """The lab for a notebook's first cell: starts one, or reuses the one already running.

    Running that cell again (a habit in notebooks) then keeps your work instead of failing
    because a lab is already running; ``lab.reset()`` is there to start over.
    """
    wanted = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if _current is not None and not _current.alive():
        _current.stop()  # its lab server died: start afresh
    if _current is not None:
        if _current.scenario != wanted:
            raise LabStateError(
                f"A lab with another scenario ({_current.scenario.name!r}) is running in this kernel. "
                "Stop it first (lab.stop()) or restart the kernel."
            )
        return _current
    return Lab(scenario if not isinstance(scenario, Scenario) else wanted, mode=mode).start()


class Lab:
    """A lab AWS account seeded with a scenario's company, in this kernel or in a lab server.

    >>> with Lab() as lab:                       # doctest: +SKIP
    ...     lab.client("iam").list_users()

    or, across notebook cells, ``lab = Lab().start()`` and later ``lab.stop()``. While it runs,
    plain ``boto3.client(...)`` calls reach the lab account as its administrator, and nothing
    can reach real AWS. ``mode="server"`` keeps the account in a child process instead (the
    kernel reaches it at ``lab.endpoint_url``, like any other AWS client could); everything
    works the same in both modes.
    """

    def __init__(self, scenario: str | Path | Scenario = "acme", *, mode: Mode = "kernel", port: int = 0,
                 server: str | None = None) -> None:
        self.scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self._scenario_ref = str(scenario) if isinstance(scenario, (str, Path)) else None
        if mode not in ("kernel", "server"):
            raise InvalidInput(f"Lab mode must be 'kernel' or 'server', not {mode!r}.")
        #: The URL of a lab server someone else started (a grader sets LABKIT_SERVER), or None.
        self.server = server if server is not None else (os.environ.get("LABKIT_SERVER") or None)
        self.mode: Mode = "server" if self.server else mode
        self._port = port
        self.account: Any = None  # labkit.host: the LabAccount in this kernel, or a ServerAccount
        self._stack: ExitStack | None = None
        self._keys: dict[tuple[str, str | None], tuple[str, str]] = {}
        self._admin_clients: dict[tuple[str, str | None], Any] = {}
        self.answers: dict[str, Any] = {}

    # -- life cycle ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._stack is not None

    @property
    def account_id(self) -> str:
        return self.scenario.account_id

    @property
    def region(self) -> str:
        return self.scenario.region

    @property
    def endpoint_url(self) -> str | None:
        """Where the lab account serves AWS's APIs: a loopback URL in server mode, None in the kernel."""
        return getattr(self.account, "endpoint_url", None)

    @property
    def clock(self) -> Any:
        """The lab's clock (``lab.clock.advance(days=90)``); it lives with the account."""
        self._require_running("read the lab clock")
        return self.account.clock

    @property
    def trail(self) -> Any:
        """Every call made in the lab, as the account recorded it."""
        self._require_running("read the trail")
        return self.account.trail

    def start(self) -> Lab:
        """Boot the account (in this kernel or a lab server) and seed it. Returns the lab."""
        global _current
        if self.running:
            raise LabStateError("This lab is already running. Use lab.reset() to start over, or lab.stop() first.")
        if _current is not None:
            raise LabStateError(
                "Another Lab is already running in this process. Stop it first (lab.stop()), "
                "or keep using it: labkit.lab.current_lab() returns it."
            )
        stack = ExitStack()
        try:
            self._boot(stack)
            self._stack = stack
            _current = self
        except BaseException:
            self._stack = None
            self.account = None
            stack.close()
            raise
        return self

    def _boot(self, stack: ExitStack) -> None:
        """Isolate the environment, then start the account where it lives (or reach the server)."""
        import boto3

        if self.server:
            from labkit.host.remote import ServerAccount

            safety.allow_endpoint(self.server)
            stack.callback(safety.forbid_endpoint, self.server)
            self.account = ServerAccount.attach(self.server, token=os.environ.get("LABKIT_SERVER_TOKEN") or None)
        elif self.mode == "server":
            from labkit.host.remote import ServerAccount

            self.account = ServerAccount.start(self._scenario_file(stack), port=self._port)
            stack.callback(self.account.close)
            safety.allow_endpoint(self.account.endpoint_url, lost=self.account.lost)
            stack.callback(safety.forbid_endpoint, self.account.endpoint_url)
        else:
            from labkit.host.account import LabAccount

            self.account = LabAccount(self.scenario).start()
            stack.callback(self.account.close)
        stack.enter_context(safety.isolated_environment(self._environment()))
        boto3.DEFAULT_SESSION = None
        stack.callback(setattr, boto3, "DEFAULT_SESSION", None)

    def _scenario_file(self, stack: ExitStack) -> str:
        """The scenario as the lab server can load it: its name or file, or a file written for it."""
        if self._scenario_ref is not None:
            return self._scenario_ref
        import pickle
        import tempfile

        handle = tempfile.NamedTemporaryFile("wb", suffix=".pickle", delete=False)  # read back by our own server only
        with handle:
            pickle.dump(self.scenario, handle)
        stack.callback(os.unlink, handle.name)
        return handle.name

    def stop(self) -> None:
        """Shut the lab down (and its lab server, if it started one); restore the environment."""
        global _current
        if self._stack is None:
            raise LabStateError("This lab is not running, so there is nothing to stop. Start it with lab.start().")
        stack, self._stack = self._stack, None
        _current = None
        self._keys.clear()
        self._admin_clients.clear()
        try:
            stack.close()
        finally:
            self.account = None

    def reset(self) -> None:
        """Throw away every change and return to the freshly seeded company."""
        self._require_running("reset")
        self.account.reset()
        self._keys.clear()
        self.answers.clear()

    def alive(self) -> bool:
        """Whether the lab's account still answers (False once its lab server has died)."""
        return self.running and (not hasattr(self.account, "alive") or self.account.alive())

    def __enter__(self) -> Lab:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.running:
            self.stop()

    def _environment(self) -> dict[str, str]:
        key, secret = admin_credentials(self.account_id)
        extra = {"AWS_ENDPOINT_URL": self.endpoint_url} if self.endpoint_url else {}
        return {
            **extra,
            "AWS_ACCESS_KEY_ID": key,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def _require_running(self, what: str) -> None:
        if not self.running:
            raise LabStateError(f"Cannot {what}: this lab is not running. Start it with lab.start() (or `with Lab() as lab:`).")

    # -- clients and sessions -----------------------------------------------------------------

    def _account_id(self, account: str | None) -> str:
        if account is None:
            return self.account_id
        try:
            return self.scenario.account_named(account).account_id
        except LabkitError:
            names = ", ".join(a.name for a in self.scenario.all_accounts())
            raise NoSuchEntity(f"There is no account {account!r} in this lab. Its accounts are: {names}.") from None

    def session(self, *, account: str | None = None) -> Any:
        """A boto3 Session acting as an account's administrator (the company's by default)."""
        self._require_running("make a session")
        return _session(*admin_credentials(self._account_id(account)), self.region)

    def client(self, service: str, *, account: str | None = None, **kwargs: Any) -> Any:
        """A boto3 client acting as an account's administrator (the company's by default)."""
        self._require_running("make a client")
        if kwargs:
            return self.session(account=account).client(service, **kwargs)
        key = (service, account)
        if key not in self._admin_clients:
            self._admin_clients[key] = self.session(account=account).client(service)
        return self._admin_clients[key]

    def session_as(self, user: str, *, account: str | None = None, source_ip: str | None = None) -> Any:
        """A boto3 Session that signs with ``user``'s own access keys (made for them if needed).

        Calls made with it are allowed or denied by the user's own policies. ``account`` names
        another lab account the user is in (``"audit"``); ``source_ip`` is the address the calls
        appear to come from (aws:SourceIp).
        """
        self._require_running("make a session")
        iam = self.client("iam", account=account)
        try:
            keys = {k["AccessKeyId"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"] if k["Status"] == "Active"}
        except iam.exceptions.NoSuchEntityException:
            names = sorted(u["UserName"] for u in iam.list_users()["Users"])
            where = f"account {account!r}" if account else "the lab account"
            raise NoSuchEntity(f"There is no IAM user named {user!r} in {where}. Its users are: {', '.join(names)}.") from None
        slot = (user, account)
        if slot not in self._keys or self._keys[slot][0] not in keys:
            created = iam.create_access_key(UserName=user)["AccessKey"]
            self._keys[slot] = (created["AccessKeyId"], created["SecretAccessKey"])
        key_id, secret = self._keys[slot]
        return _session(key_id, secret, self.region, source_ip=source_ip)

    # -- checks ---------------------------------------------------------------------------------

    def check(self, check_id: str, answer: Any = None) -> Any:
        """Run graded check ``check_id`` against the lab account (and ``answer``, if it takes one)."""
        self._require_running("run a check")
        from labkit.checks import run_check

        if answer is not None:
            self.answers[check_id] = answer
        if os.environ.get("LABKIT_ANSWERS"):  # a graded run: hand the answer over, the grader judges
            from labkit.grading.answers import hand_over

            return hand_over(os.environ["LABKIT_ANSWERS"], check_id, answer)
        return run_check(check_id, self, answer=answer)

    def check_my_work(self, notebook: str) -> Any:
        """Run every public check of exercise ``notebook`` here and sum up (the "check my work" cell)."""
        self._require_running("check your work")
        from labkit.checks.mywork import check_my_work

        return check_my_work(self, notebook)

    # -- display --------------------------------------------------------------------------------

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<Lab {self.scenario.company!r} account {self.account_id} {self.region} ({state})>"

    def _repr_html_(self) -> str:
        s = self.scenario
        state = "running" if self.running else "stopped"
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in (
                ("Account", f"{self.account_id} ({self.region}), {state}"),
                ("Users", ", ".join(u.name for u in s.users)),
                ("Groups", ", ".join(g.name for g in s.groups)),
                ("Roles", ", ".join(r.name for r in s.roles)),
                ("Buckets", ", ".join(b.name for b in s.buckets)),
            )
        )
        return f"<div><b>Lab: {html.escape(s.company)}</b><table>{rows}</table></div>"
