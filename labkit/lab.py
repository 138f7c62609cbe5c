"""The Lab: a mocked AWS account in this kernel, seeded with a company, safe to break and reset."""

from __future__ import annotations

import html
import os
from contextlib import ExitStack
from functools import lru_cache
from pathlib import Path
from typing import Any

from labkit import safety
from labkit.errors import LabkitError, LabStateError, NoSuchEntity
from labkit.identity import Directory, admin_credentials
from labkit.sessions import SessionStore
from labkit.scenario import Scenario, load_scenario

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
        def stamp(context: dict[str, Any], **_: Any) -> None:
            context["labkit_source_ip"] = source_ip

        core.register("before-parameter-build", stamp)
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


def open_lab(scenario: str | Path | Scenario = "acme") -> Lab:
    """The lab for a notebook's first cell: starts one, or reuses the one already running.

    Running that cell again (a habit in notebooks) then keeps your work instead of failing
    because a lab is already running; ``lab.reset()`` is there to start over.
    """
    wanted = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if _current is not None:
        if _current.scenario != wanted:
            raise LabStateError(
                f"A lab with another scenario ({_current.scenario.name!r}) is running in this kernel. "
                "Stop it first (lab.stop()) or restart the kernel."
            )
        return _current
    return Lab(wanted).start()


class Lab:
    """A moto-mocked AWS account seeded with a scenario's company.

    >>> with Lab() as lab:                       # doctest: +SKIP
    ...     lab.client("iam").list_users()

    or, across notebook cells, ``lab = Lab().start()`` and later ``lab.stop()``. While it runs,
    plain ``boto3.client(...)`` calls reach the lab account as its administrator, and nothing
    can reach real AWS.
    """

    def __init__(self, scenario: str | Path | Scenario = "acme", *, server: str | None = None) -> None:
        self.scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        #: A lab server (labkit.server) holding the account, or None for an account in this process.
        #: A grader sets LABKIT_SERVER for the kernels it runs.
        self.server = server if server is not None else (os.environ.get("LABKIT_SERVER") or None)
        self.sessions = SessionStore()
        self.organization: Any = None
        self._stack: ExitStack | None = None
        self._mock: Any = None
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

    def start(self) -> Lab:
        """Boot the mocked account and seed it. Returns the lab, so ``lab = Lab().start()`` works."""
        global _current
        if self.running:
            raise LabStateError("This lab is already running. Use lab.reset() to start over, or lab.stop() first.")
        if _current is not None:
            raise LabStateError(
                "Another Lab is already running in this process. Stop it first (lab.stop()), "
                "or keep using it: labkit.lab.current_lab() returns it."
            )
        from labkit import mockaws

        mockaws.install()
        stack = ExitStack()
        try:
            self._boot(stack)
            self._stack = stack
            _current = self
            if not self.server:  # a lab server is seeded by its owner
                self._seed()
        except BaseException:
            self._stack = None
            _current = None
            stack.close()
            raise
        return self

    def _boot(self, stack: ExitStack) -> None:
        """Isolate the environment, start the mock (or reach the server), wire the gate, clock and trail."""
        import boto3
        from moto import mock_aws

        from labkit import interceptor
        from labkit.clock import Clock
        from labkit.gate import LabGate
        from labkit.organization import OrganizationView
        from labkit.trail import Trail

        stack.enter_context(safety.isolated_environment(self._environment()))
        account_ids = [a.account_id for a in self.scenario.all_accounts()]
        if self.server:
            from labkit.remote import RemoteDirectory

            safety.allow_endpoint(self.server)
            stack.callback(safety.forbid_endpoint, self.server)
            self.directory = RemoteDirectory(account_ids, self.sessions, self.server, self.region)
        else:
            self._mock = mock_aws(config={"core": {"mock_credentials": False, "passthrough": {"urls": [], "services": []}}})
            stack.enter_context(self._mock)
            self.directory = Directory(account_ids, self.sessions)
        boto3.DEFAULT_SESSION = None
        stack.callback(setattr, boto3, "DEFAULT_SESSION", None)
        spec = self.scenario.organization
        if spec is not None:
            management = self.scenario.account_named(spec.management_account).account_id
            if self.server:
                from labkit.organization import RemoteOrganizationView

                self.organization = RemoteOrganizationView(management, self.directory.admin_client("organizations", management))
            else:
                self.organization = OrganizationView(management)
        self.gate = LabGate(self.directory, self)
        self.clock = Clock()
        self.clock.install()
        stack.callback(self.clock.uninstall)
        self.trail = Trail(clock=self.clock)
        self.gate.listeners.append(self.trail.record)
        interceptor.activate(self.gate)
        stack.callback(interceptor.deactivate)

    def stop(self) -> None:
        """Shut the lab down and restore the environment as it was before start()."""
        global _current
        if self._stack is None:
            raise LabStateError("This lab is not running, so there is nothing to stop. Start it with lab.start().")
        stack, self._stack = self._stack, None
        _current = None
        self._keys.clear()
        self._admin_clients.clear()
        self.sessions.clear()
        stack.close()

    def reset(self) -> None:
        """Throw away every change and return to the freshly seeded company."""
        self._require_running("reset")
        if self.server:
            raise LabStateError("This lab's account lives in a lab server (a graded run): it cannot be reset from here.")
        self._mock.reset()
        self.clock.reset()  # trail and clock: back to real time, an empty trail
        self.trail.clear()
        self._keys.clear()
        self.sessions.clear()
        self.answers.clear()
        self._seed()

    def __enter__(self) -> Lab:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.running:
            self.stop()

    def _environment(self) -> dict[str, str]:
        key, secret = admin_credentials(self.account_id)
        extra = {"AWS_ENDPOINT_URL": self.server} if self.server else {}
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

    def _seed(self) -> None:
        from labkit.seed import seed

        seed(self.scenario)

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

    def register_key(self, access_key: str, account_id: str) -> None:
        """Tell the mock which account temporary credentials belong to (labkit.apis.sts)."""
        if not self.server:
            from labkit.seed import register_key

            register_key(account_id, access_key, "-")

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
